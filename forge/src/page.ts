import { invokeRemote } from '@forge/bridge';

/**
 * What every Custom UI page shares: the call to Gatehouse's remote (through Forge, which
 * signs it with a FIT naming this page's workspace, repository and pull request), the error
 * flag and the live region. index.html (written by scripts/build.js) provides #gh-main,
 * #gh-live and #gh-alert.
 */

/** Gatehouse answered non-2xx; `message` is the remote's own JSON error message when it sent one. */
export class RemoteError extends Error {
  override name = 'RemoteError';
  /** The remote's JSON answer, for a page that shows more than the message (a refused form). */
  constructor(message: string, readonly status: number, readonly body?: unknown) {
    super(message);
  }
}

type Method = 'GET' | 'POST';

export async function callRemote<T>(path: string, method: Method, body?: unknown): Promise<T> {
  const response = await invokeRemote({
    path,
    method,
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    ...(body === undefined ? {} : { body }),
  });
  const status = response?.status ?? 0;
  if (status >= 200 && status < 300 && response.body) return response.body as T;
  const error = (response?.body as { error?: { message?: unknown } } | undefined)?.error;
  const message = typeof error?.message === 'string' ? error.message : `Gatehouse could not answer (${status || 'no response'}). Reload to try again.`;
  throw new RemoteError(message, status, response?.body);
}

function byId(id: string): HTMLElement {
  const element = document.getElementById(id);
  if (!element) throw new Error(`index.html lacks #${id}`);
  return element;
}

/** Replaces the page's content and keeps focus sensible for keyboard users. */
export function show(content: Node): void {
  byId('gh-main').replaceChildren(content);
}

export function showError(text: string): void {
  const alert = byId('gh-alert');
  alert.textContent = text;
  alert.hidden = false;
}

export function clearError(): void {
  byId('gh-alert').hidden = true;
}

export function announce(text: string): void {
  const live = byId('gh-live');
  // Clearing first makes screen readers repeat an identical message.
  live.textContent = '';
  setTimeout(() => {
    live.textContent = text;
  }, 50);
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Runs `start` once the document is parsed. */
export function onReady(start: () => void): void {
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
}
