/**
 * Plain formatting shared by the server-rendered Connect pages (render.ts) and the Forge
 * Custom UI bundles (forge/src/), which run in a browser: nothing here may import Node.
 */

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `22 Nov 2026, 05:12 UTC`: fixed format and zone, so a page renders the same anywhere. */
export function formatTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const hh = String(d.getUTCHours()).padStart(2, '0');
  const mm = String(d.getUTCMinutes()).padStart(2, '0');
  return `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}, ${hh}:${mm} UTC`;
}

/** Class list of an Atlassian lozenge (see static/ui/panel.css). */
export function lozengeClass(lz: { appearance: string; bold: boolean }): string {
  return `gh-lozenge gh-lozenge--${lz.appearance}${lz.bold ? ' gh-lozenge--bold' : ''}`;
}
