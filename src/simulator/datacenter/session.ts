import { randomBytes } from 'node:crypto';
import type { RequestHandler } from 'express';
import { listenForApp, type AttachOptions, type InProcessApp, type InProcessAppOptions } from '../app-harness.ts';
import { LocalDatacenter } from './local-datacenter.ts';

/**
 * The app (in this process, with its operator API on) beside a local Data Center, and the
 * operator's registration of the instance through that API: what the Data Center demo, its
 * end-to-end test and its benchmark start from.
 */

export interface DatacenterSessionOptions {
  dataDir: string;
  appPort?: number;
  dcPort?: number;
  /** The instance's context path (default `/bitbucket`, as many installations are served). */
  contextPath?: string;
  logLevel?: string;
  /** Where the app's log lines go (stdout by default). */
  logDestination?: InProcessAppOptions['logDestination'];
  pipeline?: AttachOptions['pipeline'];
  tokenWatchMs?: AttachOptions['tokenWatchMs'];
  /** Routes beside the instance at /_sim/ext/<name> (the OSV mirror). */
  extensions?: Record<string, RequestHandler>;
}

export interface RegisteredInstance {
  instanceId: string;
  name: string;
  webhookUrl: string;
  status: string;
}

export interface DatacenterSession {
  dc: LocalDatacenter;
  app: InProcessApp;
  appBaseUrl: string;
  adminToken: string;
  /** The token the instance was last registered with. */
  token: string;
  /** `POST /admin/datacenter/instances`: registers (or re-registers by name) with a token, installing the project's webhook. */
  register(input: { name: string; token: string; project: string }): Promise<RegisteredInstance>;
  /** `GET /admin/...` with the operator token; the parsed JSON answer and its status. */
  admin(path: string): Promise<{ status: number; body: Record<string, unknown> }>;
  stop(): Promise<void>;
}

/** A new HTTP access token as Data Center shows it once: `BBDC-` and random characters. */
export function newAccessToken(): string {
  return `BBDC-${randomBytes(30).toString('base64url')}`;
}

export async function startDatacenterSession(options: DatacenterSessionOptions): Promise<DatacenterSession> {
  const dc = await LocalDatacenter.start({ ...(options.dcPort === undefined ? {} : { port: options.dcPort }), contextPath: options.contextPath ?? '/bitbucket', ...(options.extensions ? { extensions: options.extensions } : {}) });
  const adminToken = randomBytes(24).toString('hex');
  let app: InProcessApp;
  try {
    app = await listenForApp({ dataDir: options.dataDir, ...(options.appPort === undefined ? {} : { port: options.appPort }), logLevel: options.logLevel ?? 'error', ...(options.logDestination ? { logDestination: options.logDestination } : {}) });
    // No Bitbucket Cloud here: its origins point at the instance, whose extensions serve the OSV mirror.
    await app.attach({ web: dc.originUrl, api: dc.originUrl }, undefined, { env: { ADMIN_TOKEN: adminToken }, ...(options.pipeline ? { pipeline: options.pipeline } : {}), ...(options.tokenWatchMs === undefined ? {} : { tokenWatchMs: options.tokenWatchMs }) });
  } catch (error) {
    await dc.stop();
    throw error;
  }
  const session: DatacenterSession = {
    dc,
    app,
    appBaseUrl: app.baseUrl,
    adminToken,
    token: '',
    async register(input) {
      const res = await fetch(`${app.baseUrl}/admin/datacenter/instances`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${adminToken}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ name: input.name, baseUrl: dc.baseUrl, token: input.token, installWebhooks: input.project }),
      });
      const body = (await res.json()) as RegisteredInstance & { error?: { message: string } };
      if (res.status !== 200 && res.status !== 201) throw new Error(`registering the instance failed (${res.status}): ${body.error?.message ?? JSON.stringify(body)}`);
      session.token = input.token;
      return body;
    },
    async admin(path) {
      const res = await fetch(`${app.baseUrl}${path}`, { headers: { Authorization: `Bearer ${adminToken}` } });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    },
    async stop() {
      // The app first: its running jobs finish against the instance.
      await app.stop();
      await dc.stop();
    },
  };
  return session;
}
