// The usage data panel: the current dataset's summary, upload (button or drag and drop,
// with progress and a clear refusal), the demo data in one click, and the choice of dataset.

import { clear, h } from './dom.js';
import { bytes, count, day, usd } from './format.js';

const CHOICE_KEY = 'netra.dataset';
const MODELS_SHOWN = 8;

export class DataPanel extends EventTarget {
  constructor({ root, api }) {
    super();
    this.root = root;
    this.api = api;
    this.datasets = [];
    this.currentId = null;
    this.loaded = false; // until the list arrives, "no data" is not known yet
    this.busy = false;
    this.build();
  }

  get current() {
    return this.datasets.find((item) => item.id === this.currentId) || null;
  }

  build() {
    this.summary = h('div', { class: 'dataset-summary', 'aria-live': 'polite' });
    this.chooser = h('select', { id: 'dataset-select', onchange: () => this.choose(this.chooser.value) });
    this.chooserField = h('div', { class: 'field', hidden: true },
      h('label', { for: 'dataset-select' }, 'Dataset to analyse'), this.chooser);
    this.fileInput = h('input', {
      type: 'file', id: 'file-input', class: 'visually-hidden', tabindex: '-1',
      accept: '.csv,.jsonl,.json,.ndjson,.parquet,text/csv,application/json',
      'aria-label': 'Usage file to upload',
      onchange: () => {
        if (this.fileInput.files[0]) this.upload(this.fileInput.files[0]);
        this.fileInput.value = '';
      },
    });
    this.uploadButton = h('button', { type: 'button', class: 'secondary', onclick: () => this.fileInput.click() },
      'Upload a usage file…');
    this.demoButton = h('button', { type: 'button', class: 'secondary', onclick: () => this.demo() },
      'Load demo data');
    this.progress = h('progress', { max: '100', value: '0', hidden: true, 'aria-label': 'Upload progress' });
    this.status = h('p', { class: 'upload-status', role: 'status', 'aria-live': 'polite' });
    this.dropzone = h('div', { class: 'dropzone' },
      this.fileInput,
      h('div', { class: 'actions' }, this.uploadButton, this.demoButton),
      h('p', { class: 'hint' }, 'Or drop a CSV, JSONL or Parquet file here: canonical columns, LiteLLM, OpenAI usage, Langfuse or Helicone exports.'),
      this.progress, this.status);
    clear(this.root).append(
      h('h2', { id: 'data-title' }, 'Usage data'),
      this.summary, this.chooserField, this.dropzone);
    for (const type of ['dragenter', 'dragover']) {
      this.root.addEventListener(type, (event) => {
        if (!hasFiles(event)) return;
        event.preventDefault();
        event.dataTransfer.dropEffect = 'copy';
        this.root.classList.add('dragging');
      });
    }
    this.root.addEventListener('dragleave', (event) => {
      if (!this.root.contains(event.relatedTarget)) this.root.classList.remove('dragging');
    });
    this.root.addEventListener('drop', (event) => {
      if (!hasFiles(event)) return;
      event.preventDefault();
      this.root.classList.remove('dragging');
      const files = event.dataTransfer.files;
      if (files.length > 1) this.say('Drop one file at a time.', 'error');
      else if (files.length === 1) this.upload(files[0]);
    });
  }

  async load() {
    this.loaded = false;
    this.summary.replaceChildren(h('p', { class: 'muted' }, 'Loading your datasets…'));
    try {
      const { datasets } = await this.api.datasets();
      this.datasets = [...datasets].sort((a, b) => String(b.created_at).localeCompare(String(a.created_at)));
    } catch (error) {
      this.datasets = [];
      this.summary.replaceChildren(h('p', { class: 'error' }, `Your datasets could not be loaded: ${error.message}`));
      return;
    }
    this.loaded = true;
    const remembered = readChoice();
    this.currentId = this.datasets.some((item) => item.id === remembered) ? remembered : this.datasets[0]?.id || null;
    this.render();
  }

  reset() {
    this.datasets = [];
    this.currentId = null;
    this.loaded = false;
    writeChoice(null);
    this.say('');
    this.render();
  }

  choose(id) {
    this.currentId = id;
    writeChoice(id);
    this.render();
  }

  add(dataset) {
    this.datasets = [dataset, ...this.datasets.filter((item) => item.id !== dataset.id)];
    this.choose(dataset.id);
  }

  render() {
    const current = this.current;
    if (!current) {
      this.summary.replaceChildren(
        h('p', { class: 'empty' }, 'No usage data yet. Load the demo data to try Netra Apex, or upload your own logs.'));
    } else {
      const models = current.models || [];
      this.summary.replaceChildren(
        h('h3', { class: 'dataset-name' }, current.name),
        h('dl', { class: 'facts' },
          fact('Rows', count(current.rows)),
          fact('Period', `${day(current.period?.start)} → ${day(current.period?.end)}`),
          fact('Spend', usd(current.total_cost_usd)),
          fact('Models', count(models.length))),
        h('ul', { class: 'chips', 'aria-label': 'Models in this dataset' },
          models.slice(0, MODELS_SHOWN).map((model) => h('li', { class: 'chip' }, model)),
          models.length > MODELS_SHOWN ? h('li', { class: 'chip more' }, `+${models.length - MODELS_SHOWN} more`) : null));
    }
    this.chooserField.hidden = this.datasets.length < 2;
    this.chooser.replaceChildren(...this.datasets.map((item) =>
      h('option', { value: item.id, selected: item.id === this.currentId },
        `${item.name} (${count(item.rows)} rows)`)));
    this.dispatchEvent(new CustomEvent('change', { detail: current }));
  }

  say(text, kind = 'info') {
    this.status.textContent = text;
    this.status.dataset.kind = kind;
  }

  setBusy(busy) {
    this.busy = busy;
    this.uploadButton.disabled = busy;
    this.demoButton.disabled = busy;
  }

  async upload(file) {
    if (this.busy) return;
    if (file.size === 0) {
      this.say(`${file.name} was refused: the file is empty.`, 'error');
      return;
    }
    this.setBusy(true);
    this.progress.hidden = false;
    this.progress.value = 0;
    this.say(`Uploading ${file.name} (${bytes(file.size)})…`);
    try {
      const dataset = await this.api.upload(file, (loaded, total) => {
        const share = total ? Math.round((loaded / total) * 100) : 0;
        this.progress.value = share;
        this.say(share < 100
          ? `Uploading ${file.name}: ${share} % (${bytes(loaded)} of ${bytes(total)})`
          : `Uploaded ${file.name}; reading and pricing the rows…`);
      });
      this.progress.value = 100;
      this.add(dataset);
      this.say(`Imported ${file.name}: ${count(dataset.rows)} rows, ${usd(dataset.total_cost_usd)}.`, 'success');
    } catch (error) {
      this.say(refusal(file, error), 'error');
    } finally {
      this.progress.hidden = true;
      this.setBusy(false);
    }
  }

  async demo() {
    if (this.busy) return;
    this.setBusy(true);
    this.demoButton.setAttribute('aria-busy', 'true');
    this.say('Generating the demo company\'s usage…');
    try {
      const dataset = await this.api.demo({});
      this.add(dataset);
      this.say(`Demo data loaded: ${count(dataset.rows)} rows, ${usd(dataset.total_cost_usd)}.`, 'success');
    } catch (error) {
      this.say(`The demo data could not be loaded: ${error.message}`, 'error');
    } finally {
      this.demoButton.removeAttribute('aria-busy');
      this.setBusy(false);
    }
  }
}

function refusal(file, error) {
  if (error.code === 'invalid_dataset' || error.status === 422) {
    const where = [];
    if (error.details.line !== undefined) where.push(`line ${error.details.line}`);
    if (error.details.column !== undefined) where.push(`column “${error.details.column}”`);
    return `${file.name} was refused: ${error.message}${where.length ? ` (${where.join(', ')})` : ''}. Nothing was imported.`;
  }
  if (error.status === 413) return `${file.name} was refused: it is larger than this server accepts. ${error.message}`;
  if (error.status === 0) {
    return `The upload of ${file.name} failed: the connection was lost or the server closed it (a file over the server's size limit is closed this way). Nothing was imported.`;
  }
  return `${file.name} could not be imported: ${error.message}`;
}

function fact(name, value) {
  return h('div', null, h('dt', null, name), h('dd', null, value));
}

function hasFiles(event) {
  return event.dataTransfer && [...event.dataTransfer.types].includes('Files');
}

function readChoice() {
  try {
    return localStorage.getItem(CHOICE_KEY);
  } catch {
    return null;
  }
}

function writeChoice(id) {
  try {
    if (id === null) localStorage.removeItem(CHOICE_KEY);
    else localStorage.setItem(CHOICE_KEY, id);
  } catch {
    // storage disabled
  }
}
