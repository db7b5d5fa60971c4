import { randomUUID } from 'node:crypto';
import { signHostToken } from './jwt.ts';

/**
 * Webhook delivery as Bitbucket does it for a Connect app: POST with a JWT (iss = clientKey,
 * qsh of the POST), the X-* headers of real deliveries, a 10 s timeout, and up to two retries
 * after a 5xx or a timeout, each with the same X-Request-UUID and the next X-Attempt-Number.
 */

export const WEBHOOK_TIMEOUT_MS = 10_000;
export const WEBHOOK_RETRIES = 2;

export interface DeliveryAttempt {
  attempt: number;
  status: number | null;
  /** Network error or timeout, when there was no answer. */
  error?: string;
  /** First 2 KB of the answer. */
  responseBody: string;
  at: string;
}

export interface Delivery {
  requestUuid: string;
  hookUuid: string;
  event: string;
  url: string;
  clientKey: string;
  body: unknown;
  attempts: DeliveryAttempt[];
}

export interface DeliverOptions {
  event: string;
  url: string;
  appBaseUrl: string;
  clientKey: string;
  sharedSecret: string;
  hookUuid: string;
  body: unknown;
  /** Reuse for a redelivery. */
  requestUuid?: string;
  firstAttempt?: number;
  /** Retries after a 5xx or timeout (default: Bitbucket's two). */
  retries?: number;
  retryDelayMs: number;
  timeoutMs?: number;
  now: () => Date;
  fetchImpl?: typeof fetch;
}

export async function deliverWebhook(opts: DeliverOptions): Promise<Delivery> {
  const delivery: Delivery = {
    requestUuid: opts.requestUuid ?? randomUUID(),
    hookUuid: opts.hookUuid,
    event: opts.event,
    url: opts.url,
    clientKey: opts.clientKey,
    body: opts.body,
    attempts: [],
  };
  const payload = JSON.stringify(opts.body);
  const first = opts.firstAttempt ?? 1;
  const last = first + (opts.retries ?? WEBHOOK_RETRIES);
  for (let attempt = first; attempt <= last; attempt++) {
    const result = await attemptOnce(opts, delivery.requestUuid, attempt, payload);
    delivery.attempts.push(result);
    const retryable = result.status === null || result.status >= 500;
    if (!retryable) break;
    if (attempt < last && opts.retryDelayMs > 0) await new Promise((r) => setTimeout(r, opts.retryDelayMs));
  }
  return delivery;
}

async function attemptOnce(opts: DeliverOptions, requestUuid: string, attempt: number, payload: string): Promise<DeliveryAttempt> {
  const now = opts.now();
  const token = signHostToken({
    clientKey: opts.clientKey,
    sharedSecret: opts.sharedSecret,
    method: 'POST',
    url: opts.url,
    appBaseUrl: opts.appBaseUrl,
    nowSeconds: Math.floor(now.getTime() / 1000),
    extra: { aud: [opts.clientKey] },
  });
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), opts.timeoutMs ?? WEBHOOK_TIMEOUT_MS);
  try {
    const res = await (opts.fetchImpl ?? fetch)(opts.url, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        'User-Agent': 'Bitbucket-Webhooks/2.0',
        Accept: '*/*',
        Authorization: `JWT ${token}`,
        'X-Event-Key': opts.event,
        'X-Request-UUID': requestUuid,
        'X-Hook-UUID': opts.hookUuid,
        'X-Attempt-Number': String(attempt),
        'X-Event-Time': now.toUTCString(),
      },
      body: payload,
      signal: controller.signal,
    });
    const text = await res.text();
    return { attempt, status: res.status, responseBody: text.slice(0, 2048), at: now.toISOString() };
  } catch (error) {
    const message = controller.signal.aborted ? `timed out after ${opts.timeoutMs ?? WEBHOOK_TIMEOUT_MS} ms` : (error as Error).message;
    return { attempt, status: null, error: message, responseBody: '', at: now.toISOString() };
  } finally {
    clearTimeout(timer);
  }
}
