import { randomUUID } from 'node:crypto';

/**
 * How Forge delivers an event to a remote endpoint (BITBUCKET.md, Forge section): a POST with
 * a freshly signed FIT (and the app system token) on every attempt, 5 s to answer, any 2xx
 * acknowledges; a failure is retried up to 4 times, 60 s apart, and a retried body is wrapped
 * as `{payload, retryContext}`. There is no event id: the remote recognises retries itself.
 */

export const FORGE_EVENT_TIMEOUT_MS = 5_000;
export const FORGE_EVENT_RETRIES = 4;
export const FORGE_RETRY_DELAY_MS = 60_000;

export interface ForgeAttempt {
  attempt: number;
  status: number | null;
  /** Network error or timeout, when there was no answer. */
  error?: string;
  /** First 2 KB of the answer. */
  responseBody: string;
  /** Whether the body went as `{payload, retryContext}`. */
  wrapped: boolean;
  /** The FIT's `jti`: a new one per attempt. */
  fitId: string;
  at: string;
}

export interface ForgeDelivery {
  id: string;
  eventType: string;
  installationId: string;
  url: string;
  body: unknown;
  attempts: ForgeAttempt[];
  /** Some attempt got a 2xx. */
  acknowledged: boolean;
}

export interface ForgeDeliverOptions {
  eventType: string;
  installationId: string;
  url: string;
  body: unknown;
  /** Headers of one attempt: a new FIT (and tokens) each time. */
  headers: () => { headers: Record<string, string>; fitId: string };
  retries?: number;
  retryDelayMs: number;
  timeoutMs?: number;
  now: () => Date;
}

/** Forge's reasons, as its retryContext names them. */
function retryReason(previous: ForgeAttempt): string {
  return previous.error?.startsWith('timed out') ? 'FUNCTION_TIME_OUT' : 'FUNCTION_RETRY_REQUEST';
}

export async function deliverForgeEvent(opts: ForgeDeliverOptions): Promise<ForgeDelivery> {
  const delivery: ForgeDelivery = { id: randomUUID(), eventType: opts.eventType, installationId: opts.installationId, url: opts.url, body: opts.body, attempts: [], acknowledged: false };
  const retries = opts.retries ?? FORGE_EVENT_RETRIES;
  for (let retryCount = 0; retryCount <= retries; retryCount++) {
    const previous = delivery.attempts.at(-1);
    const body = previous ? { payload: opts.body, retryContext: { retryCount, retryReason: retryReason(previous), retryData: {} } } : opts.body;
    const result = await postOnce(opts, body, retryCount + 1);
    delivery.attempts.push(result);
    if (result.status !== null && result.status >= 200 && result.status < 300) {
      delivery.acknowledged = true;
      break;
    }
    if (retryCount < retries && opts.retryDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, opts.retryDelayMs));
  }
  return delivery;
}

async function postOnce(opts: ForgeDeliverOptions, body: unknown, attempt: number): Promise<ForgeAttempt> {
  const at = opts.now().toISOString();
  const { headers, fitId } = opts.headers();
  const timeoutMs = opts.timeoutMs ?? FORGE_EVENT_TIMEOUT_MS;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const wrapped = attempt > 1;
  try {
    const res = await fetch(opts.url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'User-Agent': 'Forge-Remote/1.0 (local Forge)', ...headers },
      body: JSON.stringify(body),
      signal: controller.signal,
    });
    const text = await res.text();
    return { attempt, status: res.status, responseBody: text.slice(0, 2048), wrapped, fitId, at };
  } catch (error) {
    const message = controller.signal.aborted ? `timed out after ${timeoutMs} ms` : (error as Error).message;
    return { attempt, status: null, error: message, responseBody: '', wrapped, fitId, at };
  } finally {
    clearTimeout(timer);
  }
}
