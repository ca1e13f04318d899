// The report of a run (DATA.md section 4): totals, charts, recommendations ranked by
// monthly saving with their evidence, findings, and the action plan when there is one.

import { barChart, lineChart } from './charts.js';
import { h } from './dom.js';
import { compact, count, day, label, usd, usdShort } from './format.js';

const TABLE_ROWS = 10;

export function renderReport(report, { onDownload } = {}) {
  const totals = report.totals || {};
  const recommendations = [...(report.recommendations || [])]
    .sort((a, b) => (b.monthly_savings_usd || 0) - (a.monthly_savings_usd || 0));
  const period = report.period || {};
  const download = onDownload
    ? h('button', { type: 'button', class: 'secondary small', onclick: () => onDownload() }, 'Download Markdown')
    : null;
  return h('section', { class: 'report', 'aria-label': 'Report' },
    h('div', { class: 'report-head' },
      h('h2', null, 'Report'),
      h('p', { class: 'muted' }, `${day(period.start)} → ${day(period.end)} · ${Number(period.days || 0).toFixed(1)} days`),
      download),
    h('div', { class: 'totals' },
      card('Spend', usd(totals.cost_usd)),
      card('Requests', count(totals.requests)),
      card('Input tokens', compact(totals.input_tokens), null, count(totals.input_tokens)),
      card('Output tokens', compact(totals.output_tokens), null, count(totals.output_tokens)),
      recommendations.length ? card('Savings a month', usd(report.total_monthly_savings_usd), 'saving') : null),
    totals.unpriced_requests
      ? h('p', { class: 'notice' }, `${count(totals.unpriced_requests)} requests of models the price catalog does not know (${(totals.unpriced_models || []).join(', ')}) are not priced and not counted in the spend.`)
      : null,
    charts(report, recommendations),
    recommendations.length ? recommendationList(recommendations) : null,
    (report.findings || []).length ? findingList(report.findings) : null,
    (report.action_plan || []).length ? actionPlan(report.action_plan) : null);
}

function card(name, value, kind, exact) {
  return h('div', { class: kind ? `total ${kind}` : 'total', title: exact ? `${name}: ${exact}` : null },
    h('span', { class: 'total-name' }, name), h('span', { class: 'total-value' }, value));
}

function charts(report, recommendations) {
  const breakdowns = report.breakdowns || {};
  const given = Object.fromEntries((report.charts || []).map((chart) => [chart.id, chart]));
  const figures = [];
  const byDay = breakdowns.by_day?.length
    ? { x: breakdowns.by_day.map((row) => row.key), y: breakdowns.by_day.map((row) => row.cost_usd) }
    : given.spend_by_day;
  if (byDay?.x?.length) {
    const order = byDay.x.map((key, i) => [String(key), byDay.y[i]]).sort((a, b) => a[0].localeCompare(b[0]));
    figures.push(lineChart({
      title: 'Spend by day', x: order.map((pair) => pair[0]), y: order.map((pair) => pair[1]),
      format: usdShort, valueFormat: usd,
    }));
  }
  const byModel = breakdowns.by_model?.length
    ? { x: breakdowns.by_model.map((row) => row.key), y: breakdowns.by_model.map((row) => row.cost_usd) }
    : given.spend_by_model;
  if (byModel?.x?.length) {
    figures.push(barChart({
      title: 'Spend by model', labels: byModel.x.map((key) => key || '(none)'), values: byModel.y,
      format: usdShort, valueFormat: usd,
    }));
  }
  const saving = recommendations.filter((item) => item.monthly_savings_usd > 0);
  if (saving.length) {
    figures.push(barChart({
      title: 'Monthly savings by recommendation', labels: saving.map((item) => label(item.kind)),
      values: saving.map((item) => item.monthly_savings_usd), format: usdShort, valueFormat: usd,
    }));
  }
  return figures.length ? h('div', { class: 'charts' }, figures) : null;
}

function recommendationList(recommendations) {
  return h('section', { class: 'report-section' },
    h('h3', null, 'Recommendations, largest monthly saving first'),
    h('ol', { class: 'recommendations' }, recommendations.map((item, i) =>
      h('li', { class: item.monthly_savings_usd > 0 ? 'rec' : 'rec none', dataset: { kind: item.kind } },
        h('div', { class: 'rec-head' },
          h('span', { class: 'rank', 'aria-hidden': 'true' }, String(i + 1)),
          h('h4', null, item.title || label(item.kind)),
          h('span', { class: 'rec-saving' }, usd(item.monthly_savings_usd), h('small', null, ' / month'))),
        h('p', { class: 'rec-meta' },
          h('span', { class: 'chip' }, label(item.kind)),
          item.confidence ? h('span', { class: `chip confidence-${item.confidence}` }, `${item.confidence} confidence`) : null,
          h('span', null, `${count(item.affected_requests)} requests · ${usd(item.affected_cost_usd)} of spend affected`)),
        item.action ? h('p', { class: 'rec-action' }, item.action) : null,
        item.evidence && Object.keys(item.evidence).length
          ? h('details', { class: 'evidence' }, h('summary', null, 'Evidence'), value(item.evidence))
          : null))));
}

function findingList(findings) {
  return h('section', { class: 'report-section' },
    h('h3', null, 'Findings'),
    h('ul', { class: 'findings' }, findings.map((finding) => {
      const { kind, ...rest } = finding;
      return h('li', { class: 'finding', dataset: { kind } }, h('h4', null, label(kind)), value(rest));
    })));
}

function actionPlan(plan) {
  return h('section', { class: 'report-section' },
    h('h3', null, 'Action plan'),
    h('ol', { class: 'plan' }, plan.map((step) =>
      h('li', null,
        h('h4', null, step.title, h('span', { class: 'muted' }, ` — ${usd(step.monthly_savings_usd)}/month, effort ${step.effort}`)),
        h('ul', null, (step.steps || []).map((text) => h('li', null, text))),
        step.validation ? h('p', null, h('strong', null, 'Validate: '), step.validation) : null,
        step.rollback ? h('p', null, h('strong', null, 'Roll back: '), step.rollback) : null))));
}

// Any JSON value as readable DOM: money for *_usd keys, counts with separators, tables for
// lists of records, definition lists for records.
function value(data, key = '') {
  if (data === null || data === undefined) return h('span', { class: 'muted' }, '–');
  if (Array.isArray(data)) {
    if (data.length && data.every((item) => item && typeof item === 'object' && !Array.isArray(item))) return records(data);
    return h('span', null, data.map((item) => (typeof item === 'object' ? JSON.stringify(item) : String(item))).join(', ') || '–');
  }
  if (typeof data === 'object') {
    return h('dl', { class: 'kv' }, Object.entries(data).map(([name, item]) =>
      h('div', null, h('dt', null, label(name)), h('dd', null, value(item, name)))));
  }
  return h('span', null, scalar(data, key));
}

function scalar(data, key) {
  if (typeof data === 'number') {
    if (/usd|cost|spend|saving/i.test(key)) return usd(data);
    if (/share|ratio|rate/i.test(key) && Math.abs(data) <= 1) return `${(data * 100).toFixed(1)}%`;
    if (Number.isInteger(data)) return count(data);
    return data.toLocaleString('en-US', { maximumFractionDigits: 4 });
  }
  if (typeof data === 'boolean') return data ? 'yes' : 'no';
  return String(data);
}

function records(rows) {
  const columns = [...new Set(rows.slice(0, TABLE_ROWS).flatMap((row) => Object.keys(row)))];
  return h('div', { class: 'table-wrap' }, h('table', null,
    h('thead', null, h('tr', null, columns.map((name) => h('th', { scope: 'col' }, label(name))))),
    h('tbody', null, rows.slice(0, TABLE_ROWS).map((row) =>
      h('tr', null, columns.map((name) => {
        const cell = row[name];
        const shown = cell && typeof cell === 'object' ? JSON.stringify(cell) : scalar(cell ?? '–', name);
        return h('td', { class: typeof cell === 'number' ? 'align-right' : null }, shown);
      }))))),
    rows.length > TABLE_ROWS ? h('p', { class: 'muted' }, `…and ${rows.length - TABLE_ROWS} more`) : null);
}
