import { compare, valid } from '@renovatebot/pep440';
import { compareNatural } from './natural.ts';

/** PyPI: PEP 440 (epochs, pre/post/dev releases, local versions). */
export function comparePypi(a: string, b: string): number {
  if (valid(a) && valid(b)) return Math.sign(compare(a, b));
  return compareNatural(a, b);
}
