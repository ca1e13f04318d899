// Inline Markdown (emphasis, code, links) into DOM nodes; see markdown.js. Text reaches the
// document through text nodes only, and links keep safe addresses only.

import { h } from './dom.js';

const SAFE_PROTOCOLS = new Set(['http:', 'https:', 'mailto:']);

const PUNCTUATION = /[!-/:-@[-`{-~]/;
const WORD = /[\p{L}\p{N}]/u;

export function parseInline(text, parent) {
  let buffer = '';
  const flush = () => {
    if (buffer) parent.append(buffer);
    buffer = '';
  };
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '\\' && i + 1 < text.length && PUNCTUATION.test(text[i + 1])) {
      buffer += text[i + 1];
      i += 2;
      continue;
    }
    if (c === '\n') {
      if (/ {2,}$/.test(buffer) || buffer.endsWith('\\')) {
        buffer = buffer.replace(/( +|\\)$/, '');
        flush();
        parent.append(h('br'));
      } else buffer += '\n';
      i += 1;
      continue;
    }
    if (c === '`') {
      const run = runLength(text, i, '`');
      const close = findCodeClose(text, i + run, run);
      if (close >= 0) {
        flush();
        let code = text.slice(i + run, close).replace(/\n/g, ' ');
        if (code.length > 2 && code.startsWith(' ') && code.endsWith(' ')) code = code.slice(1, -1);
        parent.append(h('code', null, code));
        i = close + run;
      } else {
        buffer += text.slice(i, i + run);
        i += run;
      }
      continue;
    }
    if ((c === '[' || (c === '!' && text[i + 1] === '[')) && parseLink(text, c === '!' ? i + 1 : i)) {
      const link = parseLink(text, c === '!' ? i + 1 : i);
      flush();
      const a = safeLink(link.url);
      if (a) {
        if (c === '!') a.append(link.text || link.url);
        else parseInline(link.text, a);
        parent.append(a);
      } else parseInline(link.text, parent);
      i = link.end;
      continue;
    }
    if (c === '<') {
      const match = text.slice(i).match(/^<((?:https?:\/\/|mailto:)[^\s<>]+)>/);
      const a = match && safeLink(match[1]);
      if (a) {
        flush();
        a.append(match[1]);
        parent.append(a);
        i += match[0].length;
        continue;
      }
    }
    if (c === 'h' && (i === 0 || /[\s(]/.test(text[i - 1]))) {
      const match = text.slice(i).match(/^https?:\/\/[^\s<]*[^\s<.,:;"')\]!?*_~]/);
      const a = match && safeLink(match[0]);
      if (a) {
        flush();
        a.append(match[0]);
        parent.append(a);
        i += match[0].length;
        continue;
      }
    }
    if (c === '*' || c === '_' || c === '~') {
      const done = emphasis(text, i, flush, parent);
      if (done > i) {
        i = done;
        continue;
      }
      const run = runLength(text, i, c);
      buffer += text.slice(i, i + run);
      i += run;
      continue;
    }
    buffer += c;
    i += 1;
  }
  flush();
}

function runLength(text, i, c) {
  let n = 0;
  while (text[i + n] === c) n += 1;
  return n;
}

function findCodeClose(text, from, run) {
  let j = text.indexOf('`'.repeat(run), from);
  while (j >= 0) {
    const length = runLength(text, j, '`');
    if (length === run) return j;
    j = text.indexOf('`'.repeat(run), j + length);
  }
  return -1;
}

// Emphasis at text[i]; returns the index after it, or i when there is none.
function emphasis(text, i, flush, parent) {
  const c = text[i];
  const run = runLength(text, i, c);
  const before = text[i - 1] ?? ' ';
  const after = text[i + run] ?? ' ';
  if (/\s/.test(after)) return i;
  if (c === '_' && WORD.test(before)) return i; // snake_case words stay as they are
  const tries = c === '~'
    ? (run === 2 ? [2] : [])
    : [Math.min(run, 3), 2, 1].filter((n, k, all) => n <= run && all.indexOf(n) === k);
  for (const size of tries) {
    const close = findEmphasisClose(text, i + size, c, size);
    if (close < 0) continue;
    flush();
    const inner = text.slice(i + size, close);
    let el;
    if (c === '~') el = h('del');
    else if (size === 3) el = h('em', null, h('strong'));
    else el = h(size === 2 ? 'strong' : 'em');
    parseInline(inner, el.firstElementChild || el);
    parent.append(el);
    if (size < run) {
      // "***a**" style leftovers: keep the extra markers as text before the element
      el.before(c.repeat(run - size));
    }
    return close + size;
  }
  return i;
}

function findEmphasisClose(text, from, c, size) {
  let j = from;
  while (j < text.length) {
    const ch = text[j];
    if (ch === '\\') {
      j += 2;
      continue;
    }
    if (ch === '`') {
      const run = runLength(text, j, '`');
      const close = findCodeClose(text, j + run, run);
      j = close >= 0 ? close + run : j + run;
      continue;
    }
    if (ch === c) {
      const run = runLength(text, j, c);
      const before = text[j - 1];
      const after = text[j + run] ?? ' ';
      const closes = run === size && j > from && !/\s/.test(before) &&
        !(c === '_' && WORD.test(after));
      if (closes) return j;
      j += run;
      continue;
    }
    j += 1;
  }
  return -1;
}

// [text](url "title") starting at text[i] === '['.
function parseLink(text, i) {
  let depth = 0;
  let j = i;
  for (; j < text.length; j += 1) {
    const ch = text[j];
    if (ch === '\\') j += 1;
    else if (ch === '[') depth += 1;
    else if (ch === ']') {
      depth -= 1;
      if (depth === 0) break;
    }
  }
  if (depth !== 0 || text[j + 1] !== '(') return null;
  let k = j + 2;
  let parens = 1;
  for (; k < text.length; k += 1) {
    if (text[k] === '(') parens += 1;
    else if (text[k] === ')') {
      parens -= 1;
      if (parens === 0) break;
    }
  }
  if (parens !== 0) return null;
  let url = text.slice(j + 2, k).trim();
  if (url.startsWith('<')) url = url.slice(1, url.indexOf('>') > 0 ? url.indexOf('>') : undefined);
  else url = url.split(/\s+/)[0];
  return { text: text.slice(i + 1, j), url, end: k + 1 };
}

export function safeLink(url) {
  let parsed;
  try {
    parsed = new URL(url, document.baseURI);
  } catch {
    return null;
  }
  if (!SAFE_PROTOCOLS.has(parsed.protocol)) return null;
  const a = h('a', { href: parsed.href, rel: 'noopener noreferrer nofollow' });
  if (parsed.origin !== window.location.origin) a.setAttribute('target', '_blank');
  return a;
}
