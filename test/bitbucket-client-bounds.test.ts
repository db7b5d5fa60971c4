import { describe, expect, it } from 'vitest';
import { createBitbucketClient, CLIENT_DEFAULTS } from '../src/bitbucket/client.ts';
import { BitbucketTooLargeError } from '../src/bitbucket/errors.ts';

/**
 * Every answer read as text is bounded in bytes: an oversized one is refused with a typed
 * error, reading stops where it passes the bound, and the rest is never downloaded.
 */

const MB = 1024 * 1024;

/** An endless body that counts what is pulled from it and whether it was cancelled. */
function endless(headers: Record<string, string> = {}) {
  const seen = { bytes: 0, cancelled: false };
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      seen.bytes += MB;
      controller.enqueue(new Uint8Array(MB).fill(0x20));
    },
    cancel() {
      seen.cancelled = true;
    },
  });
  const fetch = (async () => new Response(body, { status: 200, headers: { 'content-type': 'application/json', ...headers } })) as typeof globalThis.fetch;
  return { seen, fetch };
}

function client(fetch: typeof globalThis.fetch) {
  return createBitbucketClient({
    appKey: 'gatehouse-test',
    clientKey: 'client-key-1',
    sharedSecret: 'shared-secret-for-tests-only',
    baseUrl: 'https://bitbucket.org',
    baseApiUrl: 'https://api.bitbucket.org',
    allowedApiOrigins: ['https://api.bitbucket.org'],
    allowedBaseOrigins: ['https://bitbucket.org'],
    auth: 'jwt',
    fetch,
    maxRetries: 0,
  });
}

describe('response size bounds', { timeout: 60_000 }, () => {
  it('refuses a JSON answer that grows past the bound, and stops downloading it', async () => {
    const { seen, fetch } = endless();
    const error = await client(fetch).getPullRequest('acme', 'widgets', 7).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BitbucketTooLargeError);
    expect((error as Error).message).toBe('GET /2.0/repositories/acme/widgets/pullrequests/7: the answer is larger than the 32 MB this client reads');
    expect(seen.cancelled).toBe(true);
    expect(seen.bytes).toBeLessThanOrEqual(CLIENT_DEFAULTS.maxBodyBytes + 4 * MB);
  });

  it('refuses an answer whose declared length is over the bound before reading any of it', async () => {
    const { seen, fetch } = endless({ 'content-length': String(64 * MB) });
    await expect(client(fetch).getPullRequest('acme', 'widgets', 7)).rejects.toBeInstanceOf(BitbucketTooLargeError);
    expect(seen.bytes).toBeLessThanOrEqual(2 * MB);
  });

  it('bounds a file read by the size its caller asks for', async () => {
    const fetch = (async () => new Response('x'.repeat(2_000), { status: 200 })) as typeof globalThis.fetch;
    await expect(client(fetch).getFileSource('acme', 'widgets', '0123456789ab', 'package-lock.json', { maxBytes: 1_000 })).rejects.toThrow(/larger than the 1 KB/);
    expect(await client(fetch).getFileSource('acme', 'widgets', '0123456789ab', 'package-lock.json', { maxBytes: 4_000 })).toHaveLength(2_000);
  });
});
