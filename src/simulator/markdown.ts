import { escapeHtml as e } from './resources.ts';

/**
 * The part of Bitbucket's comment Markdown that apps' summary comments use: paragraphs,
 * `-`/`*` lists, pipe tables, **bold**, `code`, [links](https://...) and backslash escapes.
 * HTML in the source is shown as text and an HTML comment is hidden, as Bitbucket's
 * sanitiser does; links other than http(s) stay text. Everything else renders literally.
 */

const HTML_COMMENT = /^\s*<!--.*-->\s*$/;
const LIST_ITEM = /^\s*[-*]\s+(.*)$/;
const TABLE_ROW = /^\s*\|.*\|\s*$/;
const TABLE_RULE = /^\s*\|(\s*:?-{3,}:?\s*\|)+\s*$/;
const INLINE = /`([^`]+)`|\*\*(.+?)\*\*|\[([^\]]+)\]\((https?:\/\/[^\s)]+)\)|\\([\\`*_[\]<>|#])/g;

export function renderInline(text: string): string {
  let html = '';
  let last = 0;
  for (const m of text.matchAll(INLINE)) {
    html += e(text.slice(last, m.index));
    const [whole, code, bold, label, href, escaped] = m;
    if (code !== undefined) html += `<code>${e(code)}</code>`;
    else if (bold !== undefined) html += `<strong>${renderInline(bold)}</strong>`;
    else if (label !== undefined && href !== undefined) html += `<a href="${e(href)}" rel="noreferrer noopener" target="_blank">${renderInline(label)}</a>`;
    else html += e(escaped ?? whole);
    last = m.index + whole.length;
  }
  return html + e(text.slice(last));
}

function cells(row: string): string[] {
  // Cells split on pipes that are not escaped; the outer pipes open and close the row.
  return row.trim().slice(1, -1).split(/(?<!\\)\|/).map((c) => c.trim());
}

export function renderMarkdown(source: string): string {
  const lines = source.replace(/\r\n?/g, '\n').split('\n');
  const blocks: string[] = [];
  let paragraph: string[] = [];
  const flush = () => {
    if (paragraph.length > 0) blocks.push(`<p>${paragraph.map(renderInline).join(' ')}</p>`);
    paragraph = [];
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line.trim() === '' || HTML_COMMENT.test(line)) {
      flush();
    } else if (TABLE_ROW.test(line) && TABLE_RULE.test(lines[i + 1] ?? '')) {
      flush();
      const head = cells(line);
      const body: string[][] = [];
      for (i += 2; i < lines.length && TABLE_ROW.test(lines[i] as string); i++) body.push(cells(lines[i] as string));
      i--;
      blocks.push(
        `<table><thead><tr>${head.map((c) => `<th>${renderInline(c)}</th>`).join('')}</tr></thead>` +
          `<tbody>${body.map((r) => `<tr>${r.map((c) => `<td>${renderInline(c)}</td>`).join('')}</tr>`).join('')}</tbody></table>`,
      );
    } else if (LIST_ITEM.test(line)) {
      flush();
      const items: string[] = [];
      for (; i < lines.length && LIST_ITEM.test(lines[i] as string); i++) items.push(LIST_ITEM.exec(lines[i] as string)?.[1] ?? '');
      i--;
      blocks.push(`<ul>${items.map((item) => `<li>${renderInline(item)}</li>`).join('')}</ul>`);
    } else {
      paragraph.push(line.trim());
    }
  }
  flush();
  return blocks.join('\n');
}
