import { readFileSync } from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import { describe, expect, it } from 'vitest';

// all.js runs inside the app's iframe; here it runs in a VM with just enough of a window to
// see what it posts to the host page and how it treats replies.
const SOURCE = readFileSync(path.resolve(import.meta.dirname, '../static/simulator/all.js'), 'utf8');
const HOST = 'http://127.0.0.1:4100';

interface Posted {
  message: { type: string; op: string; id: string; data: Record<string, unknown> };
  targetOrigin: string;
}

function load() {
  const posted: Posted[] = [];
  const listeners: Record<string, ((event: unknown) => void)[]> = {};
  const parent = { postMessage: (message: Posted['message'], targetOrigin: string) => posted.push({ message, targetOrigin }) };
  const window: Record<string, unknown> = {
    parent,
    addEventListener: (type: string, fn: (event: unknown) => void) => (listeners[type] ??= []).push(fn),
  };
  const document = {
    currentScript: { src: `${HOST}/atlassian-connect/all.js` },
    querySelector: () => ({ getBoundingClientRect: () => ({ height: 84 }) }),
    body: { getBoundingClientRect: () => ({ height: 84 }) },
  };
  vm.runInNewContext(SOURCE, { window, document, URL, Promise });
  const AP = window.AP as {
    resize: (w?: string, h?: string) => void;
    sizeToParent: () => void;
    context: { getContext: (cb?: (v: unknown) => void) => Promise<unknown> | undefined; getToken: () => Promise<unknown> };
  };
  const deliver = (event: unknown) => (listeners.message ?? []).forEach((fn) => fn(event));
  const fireLoad = () => (listeners.load ?? []).forEach((fn) => fn({}));
  return { AP, posted, parent, deliver, fireLoad };
}

describe('simulator all.js', () => {
  it('posts resize and sizeToParent to the host origin only', () => {
    const { AP, posted, fireLoad } = load();
    AP.resize('100%', '300px');
    AP.sizeToParent();
    fireLoad();
    expect(posted.map((p) => [p.message.op, p.targetOrigin])).toEqual([['resize', HOST], ['sizeToParent', HOST], ['resize', HOST]]);
    expect(posted[0]?.message.data).toEqual({ width: '100%', height: '300px' });
    expect(posted[2]?.message.data.height).toBe('100px');
  });

  it('resolves getContext and getToken from replies of the parent at the host origin', async () => {
    const { AP, posted, parent, deliver } = load();
    const context = AP.context.getContext();
    const token = AP.context.getToken();
    const [ctxMsg, tokenMsg] = posted.map((p) => p.message);
    // Replies from another origin or another window are ignored.
    deliver({ origin: 'http://evil.example', source: parent, data: { type: 'gatehouse-sim-reply', id: ctxMsg?.id, result: { forged: true } } });
    deliver({ origin: HOST, source: {}, data: { type: 'gatehouse-sim-reply', id: ctxMsg?.id, result: { forged: true } } });
    deliver({ origin: HOST, source: parent, data: { type: 'gatehouse-sim-reply', id: ctxMsg?.id, result: { 'pullrequest.id': '1' } } });
    deliver({ origin: HOST, source: parent, data: { type: 'gatehouse-sim-reply', id: tokenMsg?.id, result: 'tok' } });
    expect(await context).toEqual({ 'pullrequest.id': '1' });
    expect(await token).toBe('tok');
  });

  it('supports the callback style', () => {
    const { AP, posted, parent, deliver } = load();
    let got: unknown;
    expect(AP.context.getContext((v) => (got = v))).toBeUndefined();
    deliver({ origin: HOST, source: parent, data: { type: 'gatehouse-sim-reply', id: posted[0]?.message.id, result: { a: 1 } } });
    expect(got).toEqual({ a: 1 });
  });
});
