import { describe, expect, it } from 'vitest';
import { renderInline, renderMarkdown } from './markdown.ts';

describe('comment markdown', () => {
  it('renders bold, code, http links and backslash escapes; other HTML stays text', () => {
    expect(renderInline('**2 new** in `a<b>.js` \\*not bold\\* [report](https://x.test/r?a=1&b=2)')).toBe(
      '<strong>2 new</strong> in <code>a&#60;b&#62;.js</code> *not bold* <a href="https://x.test/r?a=1&#38;b=2" rel="noreferrer noopener" target="_blank">report</a>',
    );
    expect(renderInline('<img src=x onerror=alert(1)>')).toBe('&#60;img src=x onerror=alert(1)&#62;');
    expect(renderInline('[click](javascript:alert(1))')).toBe('[click](javascript:alert(1))');
    expect(renderInline('[x](https://a.test/"onmouseover=1)')).toContain('href="https://a.test/&#34;onmouseover=1"');
  });

  it('renders paragraphs, lists and pipe tables, and hides HTML comments', () => {
    const html = renderMarkdown(
      ['**Verdict**', '', '| Severity | New |', '| --- | --- |', '| high | 1 |', '| a \\| b | 2 |', '', 'Findings:', '- one', '- two `x`', '', '<!-- marker -->'].join('\n'),
    );
    expect(html).toBe(
      [
        '<p><strong>Verdict</strong></p>',
        '<table><thead><tr><th>Severity</th><th>New</th></tr></thead><tbody><tr><td>high</td><td>1</td></tr><tr><td>a | b</td><td>2</td></tr></tbody></table>',
        '<p>Findings:</p>',
        '<ul><li>one</li><li>two <code>x</code></li></ul>',
      ].join('\n'),
    );
  });

  it('leaves a pipe line without a rule row as a paragraph', () => {
    expect(renderMarkdown('| not | a table |')).toBe('<p>| not | a table |</p>');
  });
});
