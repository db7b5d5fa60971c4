/**
 * DOM building for the Custom UI pages. Every piece of data becomes a text node or an
 * attribute value, never markup: the pages show repository text (paths, rule descriptions,
 * advisory summaries) that an attacker may have written.
 */

export type Child = Node | string | number | null | undefined | false | Child[];
export type Attributes = Record<string, string | number | boolean | null | undefined>;

export function h(tag: string, attributes: Attributes = {}, ...children: Child[]): HTMLElement {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    element.setAttribute(name, value === true ? '' : String(value));
  }
  append(element, children);
  return element;
}

function append(parent: Node, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, child);
    else parent.appendChild(typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child);
  }
}

/**
 * A link only for absolute http(s) URLs (the remote already drops others; a page must not
 * trust that alone), otherwise the text in `<code>`.
 */
export function linkOrCode(href: string | null, text: string): HTMLElement {
  if (href && /^https?:\/\//i.test(href)) return h('a', { href, target: '_blank', rel: 'noopener noreferrer' }, text);
  return h('code', {}, text);
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
