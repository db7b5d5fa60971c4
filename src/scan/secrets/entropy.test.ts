import { describe, expect, it } from 'vitest';
import { shannonEntropy } from './entropy.ts';

describe('shannonEntropy', () => {
  it('is 0 for uniform strings and log2(n) for n distinct characters', () => {
    expect(shannonEntropy('')).toBe(0);
    expect(shannonEntropy('aaaa')).toBe(0);
    expect(shannonEntropy('ab')).toBeCloseTo(1);
    expect(shannonEntropy('0123456789abcdef')).toBeCloseTo(4);
    expect(shannonEntropy('aab')).toBeCloseTo(0.918, 3);
  });
});
