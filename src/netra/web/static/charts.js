// Small SVG charts: a line chart (spend by day) and horizontal bar charts (spend by model,
// savings by recommendation). Drawn at the container's real width (redrawn when it
// changes) so text stays readable on a phone; fixed heights, so nothing jumps.
// Each chart carries a text summary for screen readers and its data as a table.

import { h, svg } from './dom.js';

const LINE_HEIGHT = 220;
const BAR_ROW = 28;
const CHAR_WIDTH = 7; // average width of a 12px label character, to truncate labels

export function lineChart({ title, x, y, format, valueFormat }) {
  const points = x.map((key, i) => ({ key: String(key), value: Number(y[i]) || 0 }));
  const top = points.reduce((best, p) => (p.value > best.value ? p : best), points[0] || { value: 0 });
  const summary = points.length
    ? `${title}: ${points.length} points from ${points[0].key} to ${points[points.length - 1].key}; highest ${valueFormat(top.value)} on ${top.key}.`
    : `${title}: no data.`;
  return figure(title, summary, points, valueFormat, (width) => drawLine(points, width, format, valueFormat), LINE_HEIGHT);
}

export function barChart({ title, labels, values, format, valueFormat }) {
  const rows = labels.map((key, i) => ({ key: String(key), value: Number(values[i]) || 0 }));
  const summary = rows.length
    ? `${title}: ${rows.map((row) => `${row.key} ${valueFormat(row.value)}`).join('; ')}.`
    : `${title}: no data.`;
  const height = Math.max(1, rows.length) * BAR_ROW + 8;
  return figure(title, summary, rows, valueFormat, (width) => drawBars(rows, width, format, valueFormat), height);
}

function figure(title, summary, points, valueFormat, draw, height) {
  const canvas = h('div', { class: 'chart-canvas', role: 'img', 'aria-label': summary, style: null });
  canvas.style.height = `${height}px`;
  const table = h('table', null,
    h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Item'), h('th', { scope: 'col', class: 'align-right' }, 'Value'))),
    h('tbody', null, points.map((p) => h('tr', null, h('td', null, p.key), h('td', { class: 'align-right' }, valueFormat(p.value))))));
  const el = h('figure', { class: 'chart' },
    h('figcaption', null, title), canvas,
    h('details', { class: 'chart-data' }, h('summary', null, 'Show the data'), h('div', { class: 'table-wrap' }, table)));
  let drawnWidth = 0;
  const render = () => {
    const width = Math.round(canvas.clientWidth);
    if (!width || Math.abs(width - drawnWidth) < 8) return;
    drawnWidth = width;
    canvas.replaceChildren(draw(width));
  };
  if (typeof ResizeObserver === 'function') new ResizeObserver(render).observe(canvas);
  else requestAnimationFrame(render);
  return el;
}

function niceStep(range, ticks) {
  const raw = range / ticks;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const unit = [1, 2, 2.5, 5, 10].find((n) => n * magnitude >= raw) || 10;
  return unit * magnitude;
}

function drawLine(points, width, format, valueFormat) {
  const height = LINE_HEIGHT;
  const margin = { top: 12, right: 14, bottom: 28, left: 58 };
  const plotW = Math.max(10, width - margin.left - margin.right);
  const plotH = height - margin.top - margin.bottom;
  const max = Math.max(...points.map((p) => p.value), 0) || 1;
  const step = niceStep(max, 4);
  const yMax = Math.ceil(max / step) * step;
  const xAt = (i) => margin.left + (points.length < 2 ? plotW / 2 : (i / (points.length - 1)) * plotW);
  const yAt = (v) => margin.top + plotH - (v / yMax) * plotH;
  const root = svg('svg', { width, height, viewBox: `0 0 ${width} ${height}`, class: 'line-chart', 'aria-hidden': 'true' });
  for (let v = 0; v <= yMax + step / 2; v += step) {
    const y = yAt(v);
    root.append(
      svg('line', { x1: margin.left, x2: width - margin.right, y1: y, y2: y, class: 'grid' }),
      svg('text', { x: margin.left - 8, y: y + 4, class: 'axis', 'text-anchor': 'end' }, format(v)));
  }
  const labelEvery = Math.max(1, Math.ceil(points.length / Math.max(2, Math.floor(plotW / 90))));
  points.forEach((p, i) => {
    if (i % labelEvery === 0 || i === points.length - 1) {
      if (i !== points.length - 1 && points.length - 1 - i < labelEvery / 2) return;
      root.append(svg('text', { x: xAt(i), y: height - 8, class: 'axis', 'text-anchor': i === 0 ? 'start' : i === points.length - 1 ? 'end' : 'middle' }, p.key.slice(5, 10) || p.key));
    }
  });
  if (points.length) {
    const line = points.map((p, i) => `${i ? 'L' : 'M'}${xAt(i).toFixed(1)},${yAt(p.value).toFixed(1)}`).join('');
    const area = `${line}L${xAt(points.length - 1).toFixed(1)},${yAt(0)}L${xAt(0).toFixed(1)},${yAt(0)}Z`;
    root.append(svg('path', { d: area, class: 'area' }), svg('path', { d: line, class: 'line' }));
    points.forEach((p, i) => {
      root.append(svg('circle', { cx: xAt(i), cy: yAt(p.value), r: points.length > 60 ? 2 : 3, class: 'point' },
        svg('title', null, `${p.key}: ${valueFormat(p.value)}`)));
    });
  }
  return root;
}

function drawBars(rows, width, format, valueFormat) {
  const height = Math.max(1, rows.length) * BAR_ROW + 8;
  const labelW = Math.min(200, Math.max(90, Math.round(width * 0.36)));
  const valueW = 78;
  const plotW = Math.max(10, width - labelW - valueW - 8);
  const max = Math.max(...rows.map((row) => row.value), 0) || 1;
  const root = svg('svg', { width, height, viewBox: `0 0 ${width} ${height}`, class: 'bar-chart', 'aria-hidden': 'true' });
  const maxChars = Math.floor((labelW - 10) / CHAR_WIDTH);
  rows.forEach((row, i) => {
    const y = 4 + i * BAR_ROW;
    const barW = Math.max(row.value > 0 ? 2 : 0, (row.value / max) * plotW);
    const shown = row.key.length > maxChars ? `${row.key.slice(0, maxChars - 1)}…` : row.key;
    root.append(
      svg('text', { x: labelW - 8, y: y + BAR_ROW / 2 + 1, class: 'label', 'text-anchor': 'end', 'dominant-baseline': 'middle' },
        shown, svg('title', null, row.key)),
      svg('rect', { x: labelW, y: y + 5, width: barW.toFixed(1), height: BAR_ROW - 10, rx: 3, class: `bar bar-${i % 6}` },
        svg('title', null, `${row.key}: ${valueFormat(row.value)}`)),
      svg('text', { x: labelW + barW + 6, y: y + BAR_ROW / 2 + 1, class: 'value', 'dominant-baseline': 'middle' }, format(row.value)));
  });
  return root;
}
