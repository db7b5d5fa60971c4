import express from 'express';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createQueryStringHash, decodeSymmetric, encodeSymmetric, fromMethodAndUrl, SymmetricAlgorithm } from 'atlassian-jwt';

/**
 * A minimal Connect app for the simulator's own tests: serves a descriptor, records every
 * lifecycle and webhook call verbatim, and answers webhooks with scripted statuses. It
 * deliberately shares no code with the simulator (atlassian-jwt directly), so the tests
 * check the simulator against an independent implementation.
 */

export interface RecordedCall {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

export interface FakeApp {
  baseUrl: string;
  lifecycle: RecordedCall[];
  webhooks: RecordedCall[];
  /** Statuses for the next webhook answers (then 202). */
  webhookStatuses: number[];
  /** Milliseconds to stall the next webhook answer. */
  webhookStallMs: number;
  descriptor: Record<string, unknown>;
  stop(): Promise<void>;
}

export const APP_KEY = 'gatehouse-test';

export async function startFakeApp(overrides: Record<string, unknown> = {}, basePath = ''): Promise<FakeApp> {
  const root = express();
  const app = express.Router();
  root.use(basePath || '/', app);
  const state: Omit<FakeApp, 'baseUrl' | 'stop'> = { lifecycle: [], webhooks: [], webhookStatuses: [], webhookStallMs: 0, descriptor: {} };
  app.use(express.json({ limit: '1mb' }));
  app.get('/atlassian-connect.json', (_req, res) => res.json(state.descriptor));
  app.post(['/lifecycle/installed', '/lifecycle/uninstalled'], (req, res) => {
    state.lifecycle.push({ path: req.path, headers: req.headers, body: req.body });
    res.status(204).end();
  });
  app.post('/webhooks', (req, res) => {
    state.webhooks.push({ path: req.originalUrl, headers: req.headers, body: req.body });
    const status = state.webhookStatuses.shift() ?? 202;
    const stall = state.webhookStallMs;
    state.webhookStallMs = 0;
    setTimeout(() => res.status(status).json({ ok: status < 300 }), stall);
  });
  const server: Server = await new Promise((resolve) => {
    const s = root.listen(0, '127.0.0.1', () => resolve(s));
  });
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}${basePath}`;
  state.descriptor = {
    key: APP_KEY,
    name: 'Gatehouse (test)',
    baseUrl,
    authentication: { type: 'jwt' },
    lifecycle: { installed: '/lifecycle/installed', uninstalled: '/lifecycle/uninstalled' },
    scopes: ['repository', 'pullrequest:write'],
    contexts: ['account'],
    modules: {
      webhooks: ['repo:push', 'pullrequest:created', 'pullrequest:updated', 'pullrequest:fulfilled', 'pullrequest:rejected'].map((event) => ({ event, url: '/webhooks' })),
      webPanels: [
        { key: 'repo-panel', name: { value: 'Gatehouse' }, location: 'org.bitbucket.repository.overview.informationPanel', url: '/panels/repo?repo={repository.full_name}' },
        { key: 'pr-panel', name: { value: 'Gatehouse PR' }, location: 'org.bitbucket.pullrequest.overview.informationPanel', url: '/panels/pr?repo={repository.full_name}&pr={pullrequest.id}&head={pullrequest.source.commit.hash}' },
      ],
    },
    ...overrides,
  };
  return Object.assign(state, {
    baseUrl,
    stop: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  }) as FakeApp;
}

/** An `Authorization` value the way a Connect app signs a REST call (iss = app key, sub = clientKey). */
export function appJwt(opts: { method: string; url: string; baseUrl: string; clientKey: string; secret: string; iss?: string; exp?: number; qsh?: string }): string {
  const now = Math.floor(Date.now() / 1000);
  const parsed = new URL(opts.url);
  const qsh = opts.qsh ?? createQueryStringHash(fromMethodAndUrl(opts.method, parsed.pathname + parsed.search), false, opts.baseUrl);
  const token = encodeSymmetric({ iss: opts.iss ?? APP_KEY, sub: opts.clientKey, iat: now, exp: opts.exp ?? now + 120, qsh }, opts.secret, SymmetricAlgorithm.HS256);
  return `JWT ${token}`;
}

export function decodeHostJwt(header: unknown, secret: string): Record<string, unknown> {
  const token = String(header ?? '').replace(/^JWT /, '');
  return decodeSymmetric(token, secret, SymmetricAlgorithm.HS256) as Record<string, unknown>;
}

export function expectedQsh(method: string, url: string, baseUrl: string): string {
  const parsed = new URL(url);
  return createQueryStringHash(fromMethodAndUrl(method, parsed.pathname + parsed.search), false, baseUrl);
}
