/**
 * Text that a repository controls (a custom rule's description, rule ids, file and package
 * names, notices quoting its configuration) is posted under Gatehouse's name: in the PR
 * comment, the Code Insights report and its annotations. None of it may become a link or a
 * mention there. `inert` defangs it while keeping it readable: URLs lose their `://` and
 * `www.` (Bitbucket links both), and `@` (mentions `@name` and `@{account-id}`, and e-mail
 * addresses, which are linked too) becomes a full-width ＠. In case a field is rendered as
 * markdown or HTML after all, `](` (a link's or image's target) gets a space and angle
 * brackets become ‹ ›.
 */
export function inert(text: string): string {
  return text
    .replace(/@/g, '\uFF20')
    .replace(/\]\(/g, '] (')
    .replace(/</g, '\u2039')
    .replace(/>/g, '\u203A')
    .replace(/:\/\//g, '[:]//')
    .replace(/\bwww\./gi, (www) => `${www.slice(0, 3)}[.]`);
}

/**
 * Repository text as one line of inert markdown: line breaks (git allows them in file names)
 * would start a heading, a list item or a fake verdict of their own, so they become spaces;
 * link, image, emphasis, table and HTML syntax is escaped.
 */
export function inertMarkdown(text: string): string {
  return inert(oneLine(text)).replace(/[\\`*_[\]<>|&!~]/g, (c) => `\\${c}`);
}

export function oneLine(text: string): string {
  return text.replace(/[\r\n\u2028\u2029]+/g, ' ');
}
