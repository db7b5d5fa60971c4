/** Markers that, anywhere on the line holding a secret, suppress that finding. */
export const INLINE_IGNORE_MARKERS = ['gatehouse:allow', 'gitleaks:allow'] as const;

export function hasInlineIgnore(lineText: string): boolean {
  return INLINE_IGNORE_MARKERS.some((marker) => lineText.includes(marker));
}
