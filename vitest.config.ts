import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Two files at a time even on a 2-core machine: most suites wait on child processes,
    // servers and PostgreSQL rather than on the CPU (vitest's default there is one).
    maxWorkers: 2,
    globalSetup: ['test/setup/build.ts', 'test/setup/chromium.ts'],
  },
});
