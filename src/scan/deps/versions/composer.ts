import { compareDigits, compareNatural } from './natural.ts';

/**
 * Packagist/Composer: up to four numeric parts (missing ones are 0), an optional `v`, and a
 * stability suffix ordered dev < alpha < beta < RC < stable < patch, each with an optional
 * number (`1.0.0-beta2`, `1.0.0-RC.1`, `2.3.1-p1`).
 */
const STABILITY: Record<string, number> = { dev: 0, alpha: 1, a: 1, beta: 2, b: 2, rc: 3, stable: 4, patch: 5, pl: 5, p: 5 };
const PATTERN = /^v?(\d+(?:\.\d+){0,3})(?:[-._]?(stable|beta|b|rc|alpha|a|patch|pl|p|dev)[-._]?(\d+)?)?(?:[-._]?dev)?$/i;

interface Parsed {
  parts: string[];
  stability: number;
  number: string;
}

function parse(version: string): Parsed | undefined {
  const m = PATTERN.exec(version.trim());
  if (!m?.[1]) return undefined;
  const parts = m[1].split('.');
  while (parts.length < 4) parts.push('0');
  const suffix = m[2]?.toLowerCase();
  return { parts, stability: suffix === undefined ? STABILITY.stable ?? 4 : STABILITY[suffix] ?? 4, number: m[3] ?? '0' };
}

export function compareComposer(a: string, b: string): number {
  const pa = parse(a);
  const pb = parse(b);
  if (!pa || !pb) return compareNatural(a.replace(/^v/i, ''), b.replace(/^v/i, ''));
  for (let i = 0; i < 4; i++) {
    const c = compareDigits(pa.parts[i] ?? '0', pb.parts[i] ?? '0');
    if (c !== 0) return c;
  }
  if (pa.stability !== pb.stability) return pa.stability < pb.stability ? -1 : 1;
  return compareDigits(pa.number, pb.number);
}
