import { describe, expect, it } from 'vitest';
import { maskSecret } from './mask.ts';

describe('maskSecret', () => {
  it('reveals at most 4+4 characters and never more than a quarter of the secret', () => {
    expect(maskSecret('0123456789abcdefghijklmnopqrstuv')).toBe('0123************************stuv');
    expect(maskSecret('AKIAZ2XQ4P7LMN3R5T6W')).toBe('AK****************6W');
    expect(maskSecret('0123456789abcdef')).toBe('01************ef');
    expect(maskSecret('hunter22')).toBe('h******2');
    expect(maskSecret('short')).toBe('*****');
    for (let n = 1; n < 200; n++) {
      const secret = 'q'.repeat(n);
      const revealed = [...maskSecret(secret)].filter((c) => c !== '*').length;
      expect(revealed).toBeLessThanOrEqual(Math.max(0, Math.min(8, n / 4)));
    }
  });

  it('caps the asterisks and masks line breaks', () => {
    const pem = `-----BEGIN KEY-----\n${'A'.repeat(3000)}\n-----END KEY\n`;
    const preview = maskSecret(pem);
    expect(preview.length).toBeLessThanOrEqual(32);
    expect(preview).not.toContain('\n');
    expect(maskSecret('')).toBe('*');
  });
});
