import { mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, logDestination } from './log.ts';

function capture() {
  let out = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      out += chunk.toString();
      done();
    },
  });
  return { logger: createLogger('debug', stream), out: () => out };
}

describe('createLogger', () => {
  it('redacts tokens and secrets wherever a careless log call puts them', () => {
    const { logger, out } = capture();
    logger.info({ req: { headers: { authorization: 'JWT header.payload.sig1' }, query: { jwt: 'header.payload.sig2' } } }, 'request');
    logger.child({ clientKey: 'ck' }).warn({ body: { sharedSecret: 'install-secret-1' }, installation: { encryptedSharedSecret: 'v1.a.b.c' } }, 'install');
    logger.debug({ jwt: 'header.payload.sig3', token: 'header.payload.sig4', sharedSecret: 'install-secret-2' }, 'verify');
    const text = out();
    for (const secret of ['sig1', 'sig2', 'sig3', 'sig4', 'install-secret-1', 'install-secret-2', 'v1.a.b.c']) expect(text).not.toContain(secret);
    expect(text.match(/\[redacted\]/g)?.length).toBe(7);
    expect(text).toContain('"clientKey":"ck"');
  });
});

describe('logDestination', () => {
  it('writes a lone line within a quarter second, though batches are 4 KB', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'gatehouse-log-'));
    const file = path.join(dir, 'out.log');
    const destination = logDestination(openSync(file, 'w'));
    try {
      createLogger('info', destination).info({ probe: 1 }, 'quiet traffic');
      // Below the batch size nothing is written at once...
      expect(readFileSync(file, 'utf8')).toBe('');
      // ...but the timer writes it soon after.
      await expect.poll(() => readFileSync(file, 'utf8'), { timeout: 2000, interval: 50 }).toContain('"msg":"quiet traffic"');
    } finally {
      (destination as unknown as { destroy(): void }).destroy();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
