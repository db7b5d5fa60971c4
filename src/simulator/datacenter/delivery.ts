import { createHmac, randomUUID } from 'node:crypto';

/**
 * Delivers one event to one webhook the way Data Center does: a POST of the JSON payload with
 * `X-Event-Key`, `X-Request-Id` and, when the webhook has a secret, `X-Hub-Signature:
 * sha256=<hex>` (HMAC-SHA256 of the exact bytes sent). Data Center does not retry a failed
 * delivery; `redeliver` sends the same bytes and request id again, as its "Resend" does.
 */

export interface DcDelivery {
  eventKey: string;
  webhookId: number;
  url: string;
  requestId: string;
  body: string;
  signature: string | undefined;
  status: number | null;
  error?: string;
  answer: string;
  /** Milliseconds from sending to the full answer. */
  ms: number;
}

/** Data Center gives up on a webhook answer after 10 s (its default `webhooks.http.socket.timeout`). */
export const DELIVERY_TIMEOUT_MS = 10_000;

export function sign(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

export async function deliver(input: { eventKey: string; webhookId: number; url: string; secret: string | undefined; body: string; requestId?: string; timeoutMs?: number }): Promise<DcDelivery> {
  const requestId = input.requestId ?? randomUUID();
  const signature = input.secret === undefined ? undefined : sign(input.secret, input.body);
  const headers: Record<string, string> = {
    'Content-Type': 'application/json; charset=UTF-8',
    'User-Agent': 'Atlassian HttpClient 4.2.0 / Bitbucket-9.4.0 (9004000) / Default',
    'X-Event-Key': input.eventKey,
    'X-Request-Id': requestId,
    ...(signature ? { 'X-Hub-Signature': signature } : {}),
  };
  const started = performance.now();
  const base = { eventKey: input.eventKey, webhookId: input.webhookId, url: input.url, requestId, body: input.body, signature };
  try {
    const res = await fetch(input.url, { method: 'POST', headers, body: input.body, signal: AbortSignal.timeout(input.timeoutMs ?? DELIVERY_TIMEOUT_MS) });
    const answer = await res.text();
    return { ...base, status: res.status, answer, ms: performance.now() - started };
  } catch (error) {
    return { ...base, status: null, error: error instanceof Error ? error.message : String(error), answer: '', ms: performance.now() - started };
  }
}
