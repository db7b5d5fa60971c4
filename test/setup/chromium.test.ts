import { afterEach, describe, expect, it, vi } from 'vitest';

describe('test setup: chromium', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.resetModules();
  });

  it('stops at once, naming the command to run, when chromium is missing and cannot be installed here', async () => {
    vi.stubEnv('CHROMIUM_PATH', '/nonexistent/chromium');
    const { default: setup } = await import('./chromium.ts');
    expect(() => setup()).toThrow(/chromium is missing at \/nonexistent\/chromium.*Run: sudo apt-get update && sudo apt-get install -y -qq --no-install-recommends chromium/);
  });
});
