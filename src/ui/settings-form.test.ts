import { describe, expect, it } from 'vitest';
import { parseSettingsForm } from './settings-form.ts';

describe('settings form', () => {
  it('turns the posted fields into a policy patch; unchecked boxes are off, blank and # lines skipped', () => {
    const parsed = parseSettingsForm({
      threshold: 'medium',
      secrets: 'on',
      ignoredPaths: 'vendor/**\r\n\r\n# generated\ndist/**\n',
      environments: 'main: production\nrelease/*:staging\n',
    });
    expect(parsed).toEqual({
      ok: true,
      form: expect.any(Object),
      patch: {
        threshold: 'medium',
        scanners: { secrets: true, dependencies: false },
        ignoredPaths: ['vendor/**', 'dist/**'],
        environments: [
          { branch: 'main', environment: 'production' },
          { branch: 'release/*', environment: 'staging' },
        ],
      },
    });
  });

  it('names each bad field once and keeps what was typed', () => {
    const parsed = parseSettingsForm({ threshold: 'severe', environments: 'main production\nmain: prod env', ignoredPaths: '' });
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(Object.keys(parsed.errors).sort()).toEqual(['environments', 'threshold']);
    expect(parsed.errors.environments).toMatch(/^Line 1: write "branch: environment"/);
    expect(parsed.form.environments).toBe('main production\nmain: prod env');
  });

  it('refuses an environment name that is not a plain word', () => {
    const parsed = parseSettingsForm({ threshold: 'high', environments: 'main: prod env' });
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.errors.environments).toMatch(/^Line 1 \(environment\)/);
  });

  it('ignores fields that are not strings (repeated keys, objects)', () => {
    const parsed = parseSettingsForm({ threshold: ['high', 'low'], secrets: { a: 1 } });
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.form).toMatchObject({ threshold: '', secrets: false });
  });
});
