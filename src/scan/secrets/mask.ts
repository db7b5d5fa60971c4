/** Longest run of asterisks in a preview; a 3 kB private key should not yield a 3 kB preview. */
const MAX_STARS = 24;

/**
 * Masked preview of a secret: at most the first and last four characters, and never
 * more than a quarter of the secret in total (so 4+4 needs 32 characters, a 16-character
 * secret shows 2+2, anything under 8 shows nothing). Revealed characters that are not
 * printable (line breaks inside a PEM block) are masked as well.
 */
export function maskSecret(secret: string): string {
  const chars = Array.from(secret);
  const reveal = Math.min(4, Math.floor(chars.length / 8));
  const hidden = chars.length - 2 * reveal;
  const show = (part: string[]) => part.map((c) => (/^[\x21-\x7e\u00a0-\uffff]$/u.test(c) ? c : '*')).join('');
  const head = show(chars.slice(0, reveal));
  const tail = reveal > 0 ? show(chars.slice(chars.length - reveal)) : '';
  return head + '*'.repeat(Math.max(1, Math.min(hidden, MAX_STARS))) + tail;
}
