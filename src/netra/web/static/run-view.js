// One run, live: each agent a step as it starts, with its thinking and its tool calls
// (arguments, short result, duration), collapsing when it completes; a stop button; the
// final answer rendered from Markdown. Fed by the RunStore, so each event arrives once.

import { h } from './dom.js';
import { brief, duration, label } from './format.js';
import { renderMarkdown } from './markdown.js';

const RESULT_CHARS = 1200;
let counter = 0;

export class RunView {
  constructor({ runId, onStop, onFinished, onAsk, history = false }) {
    this.runId = runId;
    this.onStop = onStop;
    this.onFinished = onFinished;
    this.onAsk = onAsk;
    this.steps = new Map(); // agent -> {el, body, head, userToggled}
    this.tools = new Map(); // call_id -> element
    this.startedAt = null;
    this.status = 'queued';
    this.toolCount = 0;
    this.streaming = null;
    this.timer = null;

    this.statusText = h('span', { class: 'run-status-text' }, 'Starting…');
    this.stopButton = h('button', { type: 'button', class: 'danger small', onclick: () => this.stop() }, 'Stop');
    this.toggle = h('button', {
      type: 'button', class: 'link small steps-toggle', 'aria-expanded': String(!history),
      onclick: () => this.setStepsShown(this.toggle.getAttribute('aria-expanded') !== 'true'),
    }, history ? 'Show steps' : 'Hide steps');
    this.stepList = h('ol', { class: 'steps', 'aria-label': 'Agent steps', hidden: history });
    this.answer = h('div', { class: 'answer markdown', hidden: true });
    this.error = h('p', { class: 'run-error', role: 'alert', hidden: true });
    this.followUps = h('ul', { class: 'suggestions follow-ups', 'aria-label': 'Questions I can answer', hidden: true });
    this.el = h('section', { class: 'run', dataset: { runId, status: 'queued' }, 'aria-label': 'Agents at work' },
      h('div', { class: 'run-head' },
        h('span', { class: 'spinner', 'aria-hidden': 'true' }),
        h('span', { class: 'run-status', role: 'status', 'aria-live': 'polite' }, this.statusText),
        this.toggle, this.stopButton),
      this.stepList, this.error, this.answer, this.followUps);
  }

  // Questions the answer offers instead (one it could not answer): each asks itself on a click.
  showSuggestions(questions) {
    this.followUps.replaceChildren(...questions.map((text) =>
      h('li', null, h('button', { type: 'button', class: 'suggestion', onclick: () => this.onAsk?.(text) }, text))));
    this.followUps.hidden = questions.length === 0;
  }

  setStepsShown(shown) {
    this.stepList.hidden = !shown;
    this.toggle.setAttribute('aria-expanded', String(shown));
    this.toggle.textContent = shown ? 'Hide steps' : `Show steps (${this.steps.size})`;
  }

  // The stored answer, when the thread's messages give it before the events do.
  showAnswer(text) {
    this.answer.replaceChildren(renderMarkdown(text));
    this.answer.hidden = false;
  }

  setStatus(status, text) {
    this.status = status;
    this.el.dataset.status = status;
    this.statusText.textContent = text;
    const active = status === 'queued' || status === 'running';
    this.stopButton.hidden = !active;
    if (!active) this.stopTimer();
  }

  stop() {
    if (this.stopButton.disabled) return;
    this.stopButton.disabled = true;
    this.stopButton.textContent = 'Stopping…';
    this.onStop?.(this.runId);
  }

  stopFailed() {
    this.stopButton.disabled = false;
    this.stopButton.textContent = 'Stop';
  }

  apply(event) {
    const data = event.data || {};
    switch (event.type) {
      case 'run_started':
        this.startedAt = Date.parse(event.ts);
        this.planned = data.agents || [];
        this.setStatus('running', 'Running…');
        this.startTimer();
        break;
      case 'agent_started':
        this.addStep(data.agent, event.seq);
        this.running = data.agent;
        this.tick();
        break;
      case 'agent_thinking':
        this.stepFor(data.agent).body.append(
          h('p', { class: 'thought', dataset: { seq: event.seq } }, data.text));
        break;
      case 'tool_executing':
        this.addTool(data, event.seq);
        break;
      case 'tool_completed':
        this.completeTool(data);
        break;
      case 'agent_completed':
        this.completeStep(data);
        break;
      case 'message_delta':
        if (!this.streaming) {
          this.streaming = h('p', { class: 'streaming' });
          this.answer.replaceChildren(this.streaming);
          this.answer.hidden = false;
        }
        this.streaming.append(data.text || '');
        break;
      case 'run_resumed':
        this.resumed(data, event.seq);
        break;
      case 'run_completed':
        this.streaming = null;
        this.showAnswer(data.response?.text || '');
        this.showSuggestions(Array.isArray(data.response?.suggestions) ? data.response.suggestions : []);
        this.finish('completed', `Answered in ${duration(data.duration_ms)}`);
        this.onFinished?.(this, event);
        break;
      case 'run_failed':
        this.error.textContent = `The run failed: ${data.error?.message || 'unknown error'}`;
        this.error.hidden = false;
        this.finish('failed', 'Failed');
        this.onFinished?.(this, event);
        break;
      case 'run_cancelled':
        this.finish('cancelled', 'Stopped');
        this.onFinished?.(this, event);
        break;
      default:
        break; // a newer server's event this page does not know: ignore it
    }
  }

  finish(status, text) {
    for (const step of this.steps.values()) {
      if (step.el.dataset.state === 'running') {
        step.el.dataset.state = status === 'completed' ? 'done' : status;
        step.state.textContent = status === 'cancelled' ? 'stopped' : status;
      }
    }
    this.setStatus(status, text);
  }

  addStep(agent, seq) {
    counter += 1;
    const bodyId = `step-${counter}`;
    const state = h('span', { class: 'step-state' }, 'working…');
    const time = h('span', { class: 'step-time' });
    const head = h('button', {
      type: 'button', class: 'step-head', 'aria-expanded': 'true', 'aria-controls': bodyId,
    }, h('span', { class: 'step-icon', 'aria-hidden': 'true' }),
    h('span', { class: 'step-name' }, label(agent)), state, time);
    const body = h('div', { class: 'step-body', id: bodyId });
    const el = h('li', { class: 'step', dataset: { agent, state: 'running', seq } }, head, body);
    const step = { el, head, body, state, time, userToggled: false, tools: 0 };
    head.addEventListener('click', () => {
      step.userToggled = true;
      this.expand(step, head.getAttribute('aria-expanded') !== 'true');
    });
    this.steps.set(agent, step);
    this.stepList.append(el);
    if (this.stepList.hidden) this.toggle.textContent = `Show steps (${this.steps.size})`;
    return step;
  }

  // Events of an agent whose start this view did not see still get a step.
  stepFor(agent) {
    return this.steps.get(agent) || this.addStep(agent, '');
  }

  expand(step, open) {
    step.head.setAttribute('aria-expanded', String(open));
    step.body.hidden = !open;
  }

  addTool(data, seq) {
    const step = this.stepFor(data.agent);
    step.tools += 1;
    this.toolCount += 1;
    const args = data.args && Object.keys(data.args).length
      ? Object.entries(data.args).map(([key, value]) => `${key}: ${brief(value, 60)}`).join(', ')
      : 'no arguments';
    const time = h('span', { class: 'tool-time' }, 'running…');
    const result = h('pre', { class: 'tool-result', hidden: true });
    const el = h('div', { class: 'tool', dataset: { callId: data.call_id, state: 'running', seq } },
      h('div', { class: 'tool-head' },
        h('span', { class: 'tool-icon', 'aria-hidden': 'true' }),
        h('code', { class: 'tool-name' }, data.tool),
        h('span', { class: 'tool-args' }, args), time),
      result);
    this.tools.set(data.call_id, { el, time, result });
    step.body.append(el);
    step.state.textContent = `calling ${data.tool}…`;
  }

  completeTool(data) {
    const tool = this.tools.get(data.call_id);
    if (!tool) return;
    tool.el.dataset.state = 'done';
    tool.time.textContent = duration(data.duration_ms);
    const text = JSON.stringify(data.result, null, 1) ?? '';
    tool.result.textContent = text.length > RESULT_CHARS ? `${text.slice(0, RESULT_CHARS)}…` : text;
    tool.result.hidden = false;
    const step = this.steps.get(data.agent);
    if (step) step.state.textContent = 'working…';
  }

  completeStep(data) {
    const step = this.stepFor(data.agent);
    step.el.dataset.state = 'done';
    const tools = step.tools === 1 ? '1 tool call' : `${step.tools} tool calls`;
    step.state.textContent = step.tools ? `done · ${tools}` : 'done';
    step.time.textContent = duration(data.duration_ms);
    if (!step.userToggled) this.expand(step, false);
    this.running = null;
    this.tick();
  }

  // Another process took the run over: the open agent restarts from its beginning, so its
  // unfinished step (and any partial answer) is discarded.
  resumed(data, seq) {
    for (const [agent, step] of this.steps) {
      if (step.el.dataset.state === 'running') {
        for (const tool of step.el.querySelectorAll('.tool')) this.tools.delete(tool.dataset.callId);
        step.el.remove();
        this.steps.delete(agent);
      }
    }
    this.streaming = null;
    this.answer.hidden = true;
    this.answer.replaceChildren();
    this.stepList.append(h('li', { class: 'step note', dataset: { seq } },
      `The run was taken over by another server (attempt ${data.attempt}); ${data.agent ? `${label(data.agent)} restarts.` : 'it continues.'}`));
  }

  startTimer() {
    this.stopTimer();
    this.timer = setInterval(() => this.tick(), 1000);
  }

  stopTimer() {
    clearInterval(this.timer);
    this.timer = null;
  }

  tick() {
    if (this.status !== 'running' || !this.startedAt) return;
    const elapsed = Math.max(0, Date.now() - this.startedAt);
    const planned = (this.planned || []).indexOf(this.running) + 1;
    const of = planned ? ` (${planned} of ${this.planned.length})` : '';
    const who = this.running ? `${label(this.running)} agent${of}` : 'agents';
    this.statusText.textContent = `Running · ${who} · ${Math.floor(elapsed / 1000)} s`;
  }

  destroy() {
    this.stopTimer();
  }
}
