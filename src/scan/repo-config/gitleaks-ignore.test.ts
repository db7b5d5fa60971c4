import { describe, expect, it } from 'vitest';
import { parseGitleaksIgnore } from './gitleaks-ignore.ts';

describe('parseGitleaksIgnore', () => {
  it('reads gitleaks fingerprints with and without commit, Gatehouse fingerprints and comments', () => {
    const hex = 'a'.repeat(64);
    const text = [
      '# reviewed 2024-05-01',
      '',
      'cd5226711335c68be1e720b318b7bc3135a30eb2:cmd/generate/config/rules/sidekiq.go:sidekiq-secret:23',
      'config/app.yml:generic-api-key:12  ',
      hex,
      'not a fingerprint',
      'a/b.ts:rule:notanumber',
    ].join('\r\n');
    expect(parseGitleaksIgnore(text)).toEqual({
      fingerprints: ['cmd/generate/config/rules/sidekiq.go:sidekiq-secret:23', 'config/app.yml:generic-api-key:12', hex],
      problems: ['.gitleaksignore:6: expected "path:rule:line", "commit:path:rule:line" or a Gatehouse fingerprint', '.gitleaksignore:7: expected "path:rule:line", "commit:path:rule:line" or a Gatehouse fingerprint'],
    });
  });
});
