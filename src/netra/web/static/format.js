// How numbers, money, times and durations are written on the page.

const money = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' });
const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

// `$12,345.67`, as the answers write money (DATA.md section 4).
export function usd(amount) {
  return Number.isFinite(amount) ? money.format(amount) : '–';
}

// Short money for chart axes: $950, $1.2k, $3.4M.
export function usdShort(amount) {
  const abs = Math.abs(amount);
  if (abs >= 1e6) return `$${trim(amount / 1e6)}M`;
  if (abs >= 1e3) return `$${trim(amount / 1e3)}k`;
  if (abs >= 10 || amount === 0) return `$${Math.round(amount)}`;
  return `$${trim(amount, 2)}`;
}

function trim(value, digits = 1) {
  return Number(value.toFixed(digits)).toString();
}

export function count(value) {
  return Number.isFinite(value) ? integer.format(value) : '–';
}

export function percent(share) {
  return `${(share * 100).toFixed(1)}%`;
}

export function duration(ms) {
  if (!Number.isFinite(ms)) return '';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

export function day(ts) {
  return typeof ts === 'string' ? ts.slice(0, 10) : '';
}

export function when(ts) {
  const date = new Date(ts);
  if (Number.isNaN(date.getTime())) return '';
  const now = new Date();
  const sameDay = date.toDateString() === now.toDateString();
  return sameDay
    ? date.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' })
    : date.toLocaleDateString(undefined, { month: 'short', day: 'numeric' });
}

export function bytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

const ACRONYMS = { api: 'API', usd: 'USD', id: 'ID', llm: 'LLM', url: 'URL' };

// "spend_breakdown" -> "Spend breakdown", "batch_api" -> "Batch API".
export function label(name) {
  const text = String(name ?? '')
    .split('_')
    .map((word) => ACRONYMS[word.toLowerCase()] || word)
    .join(' ');
  return text.charAt(0).toUpperCase() + text.slice(1);
}

const compactNumber = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 });

// 812,000,000 -> "812M": for large counts in small places (the full figure goes in a title).
export function compact(value) {
  return Number.isFinite(value) ? compactNumber.format(value) : '–';
}

// A compact one-line view of a JSON value (tool arguments, short results).
export function brief(value, max = 160) {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  if (text === undefined) return '';
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
