// A small Markdown renderer that builds DOM nodes.
//
// It is the page's sanitiser: text only ever reaches the document through text nodes
// (`append(string)` / textContent), never through innerHTML, so HTML in an answer or in
// the user's data shows as text and cannot run. Links keep http(s), mailto and same-page
// addresses only; images are shown as links (the page loads nothing from elsewhere).
//
// Supported: headings, paragraphs, hard breaks, emphasis (* _), strong (** __), ~~strike~~,
// `code`, fenced code blocks, block quotes, nested ordered and bullet lists, GFM tables
// with alignment, thematic breaks, [links](url), <autolinks> and bare URLs.

import { h } from './dom.js';
import { parseInline } from './markdown-inline.js';

const BLANK = /^\s*$/;
const FENCE = /^ {0,3}(`{3,}|~{3,})\s*([\w+#.-]*)/;
const HEADING = /^ {0,3}(#{1,6})(?:\s+(.*?))?\s*#*\s*$/;
const RULE = /^ {0,3}([-*_])(?:\s*\1){2,}\s*$/;
const QUOTE = /^ {0,3}> ?/;
const LIST_ITEM = /^( *)([-*+]|\d{1,9}[.)])(?: +(.*)|\s*$)/;
const TABLE_SEPARATOR = /^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$/;

export function renderMarkdown(source) {
  const root = document.createDocumentFragment();
  const text = String(source ?? '').replace(/\r\n?/g, '\n').replace(/\t/g, '    ');
  parseBlocks(text.split('\n'), root);
  return root;
}

// ---- blocks --------------------------------------------------------------------------

function parseBlocks(lines, parent) {
  let i = 0;
  while (i < lines.length) {
    const line = lines[i];
    if (BLANK.test(line)) {
      i += 1;
      continue;
    }
    let match = line.match(FENCE);
    if (match) {
      i = fencedCode(lines, i, match, parent);
      continue;
    }
    match = line.match(HEADING);
    if (match) {
      parent.append(inline(h(`h${match[1].length}`), match[2] || ''));
      i += 1;
      continue;
    }
    if (RULE.test(line)) {
      parent.append(h('hr'));
      i += 1;
      continue;
    }
    if (QUOTE.test(line)) {
      i = blockQuote(lines, i, parent);
      continue;
    }
    if (isTableStart(lines, i)) {
      i = table(lines, i, parent);
      continue;
    }
    if (LIST_ITEM.test(line)) {
      i = list(lines, i, parent);
      continue;
    }
    const paragraph = [line.trim()];
    i += 1;
    while (i < lines.length && !BLANK.test(lines[i]) && !startsBlock(lines, i)) {
      paragraph.push(lines[i].replace(/^\s+/, ''));
      i += 1;
    }
    parent.append(inline(h('p'), paragraph.join('\n')));
  }
}

function startsBlock(lines, i) {
  const line = lines[i];
  return (
    FENCE.test(line) || HEADING.test(line) || RULE.test(line) || QUOTE.test(line) ||
    LIST_ITEM.test(line) || isTableStart(lines, i)
  );
}

function fencedCode(lines, i, match, parent) {
  const fence = match[1];
  const body = [];
  i += 1;
  while (i < lines.length && !lines[i].trimStart().startsWith(fence)) {
    body.push(lines[i]);
    i += 1;
  }
  const code = h('code', match[2] ? { class: `language-${match[2]}` } : null, body.join('\n'));
  parent.append(h('pre', null, code));
  return i + 1;
}

function blockQuote(lines, i, parent) {
  const inner = [];
  while (i < lines.length && !BLANK.test(lines[i])) {
    inner.push(lines[i].replace(QUOTE, ''));
    i += 1;
  }
  const quote = h('blockquote');
  parseBlocks(inner, quote);
  parent.append(quote);
  return i;
}

function isTableStart(lines, i) {
  return (
    lines[i].includes('|') && i + 1 < lines.length && lines[i + 1].includes('-') &&
    TABLE_SEPARATOR.test(lines[i + 1])
  );
}

function splitRow(line) {
  let text = line.trim();
  if (text.startsWith('|')) text = text.slice(1);
  if (text.endsWith('|') && !text.endsWith('\\|')) text = text.slice(0, -1);
  const cells = [];
  let cell = '';
  let inCode = false;
  for (let k = 0; k < text.length; k += 1) {
    const c = text[k];
    if (c === '\\' && text[k + 1] === '|') {
      cell += '|';
      k += 1;
    } else if (c === '`') {
      inCode = !inCode;
      cell += c;
    } else if (c === '|' && !inCode) {
      cells.push(cell.trim());
      cell = '';
    } else cell += c;
  }
  cells.push(cell.trim());
  return cells;
}

function table(lines, i, parent) {
  const head = splitRow(lines[i]);
  const aligns = splitRow(lines[i + 1]).map((spec) => {
    if (spec.startsWith(':') && spec.endsWith(':')) return 'center';
    if (spec.endsWith(':')) return 'right';
    return null;
  });
  const cell = (tag, text, k) =>
    inline(h(tag, aligns[k] ? { class: `align-${aligns[k]}` } : null), text ?? '');
  const thead = h('thead', null, h('tr', null, head.map((text, k) => cell('th', text, k))));
  const tbody = h('tbody');
  i += 2;
  while (i < lines.length && !BLANK.test(lines[i]) && lines[i].includes('|')) {
    const cells = splitRow(lines[i]);
    tbody.append(h('tr', null, head.map((_, k) => cell('td', cells[k], k))));
    i += 1;
  }
  parent.append(h('div', { class: 'table-wrap' }, h('table', null, thead, tbody)));
  return i;
}

function indentOf(line) {
  return line.length - line.trimStart().length;
}

function nextNonBlank(lines, i) {
  while (i < lines.length && BLANK.test(lines[i])) i += 1;
  return i;
}

function list(lines, i, parent) {
  const first = lines[i].match(LIST_ITEM);
  const baseIndent = first[1].length;
  const ordered = /\d/.test(first[2]);
  const el = ordered ? h('ol') : h('ul');
  if (ordered && parseInt(first[2], 10) !== 1) el.setAttribute('start', String(parseInt(first[2], 10)));
  const items = [];
  let loose = false;
  while (i < lines.length) {
    const match = lines[i].match(LIST_ITEM);
    if (!match || match[1].length < baseIndent || match[1].length > baseIndent + 3) break;
    if (/\d/.test(match[2]) !== ordered) break;
    const contentIndent = match[1].length + match[2].length + 1;
    const itemLines = [match[3] ?? ''];
    i += 1;
    while (i < lines.length) {
      const line = lines[i];
      if (BLANK.test(line)) {
        const j = nextNonBlank(lines, i);
        if (j < lines.length && indentOf(lines[j]) >= contentIndent) {
          itemLines.push('');
          loose = true;
          i += 1;
          continue;
        }
        break;
      }
      if (indentOf(line) >= contentIndent) {
        itemLines.push(line.slice(contentIndent));
      } else if (!startsBlock(lines, i) && !BLANK.test(itemLines[itemLines.length - 1])) {
        itemLines.push(line.trim()); // lazy continuation of the item's paragraph
      } else break;
      i += 1;
    }
    items.push(itemLines);
    const j = nextNonBlank(lines, i);
    if (j > i && j < lines.length) {
      const next = lines[j].match(LIST_ITEM);
      if (next && next[1].length >= baseIndent && next[1].length <= baseIndent + 3 &&
          /\d/.test(next[2]) === ordered) {
        loose = true;
        i = j;
      }
    }
  }
  for (const itemLines of items) {
    const li = h('li');
    parseBlocks(itemLines, li);
    if (!loose) {
      for (const p of [...li.children].filter((child) => child.tagName === 'P')) {
        p.replaceWith(...p.childNodes);
      }
    }
    el.append(li);
  }
  parent.append(el);
  return i;
}

function inline(parent, text) {
  parseInline(text, parent);
  return parent;
}
