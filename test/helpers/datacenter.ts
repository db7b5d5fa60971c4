import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { encryptSecret } from '../../src/crypto.ts';
import { signBody } from '../../src/datacenter/signature.ts';
import type { DatacenterInstance } from '../../src/store/types.ts';
import type { TestApp } from './connect-tenant.ts';

/** Copied byte-for-byte from ../shared/reference/payloads/datacenter (sources in SOURCES.md beside it). */
export const DC_FIXTURES = path.resolve(import.meta.dirname, '../fixtures/bitbucket-payloads/datacenter');

export function readDcFixture(file: string): Buffer {
  return readFileSync(path.join(DC_FIXTURES, file));
}

export interface RegisteredInstance {
  instanceId: string;
  secret: string;
  clientKey: string;
}

/** Stores an instance the way registration does (secrets encrypted with the app's key). */
export async function registerInstance(t: TestApp, overrides: Partial<DatacenterInstance> & { secret?: string } = {}): Promise<RegisteredInstance> {
  const { secret = `secret-${randomUUID()}`, ...fields } = overrides;
  const instanceId = fields.instanceId ?? randomUUID().replace(/-/g, '').slice(0, 24);
  await t.store.putDatacenterInstance({
    instanceId,
    name: `dc-${instanceId}`,
    baseUrl: 'http://127.0.0.1:7990/bitbucket',
    encryptedToken: encryptSecret(t.config.encryptionKey, 'dc-token'),
    encryptedWebhookSecret: encryptSecret(t.config.encryptionKey, secret),
    status: 'ok',
    createdAt: t.clock.now.toISOString(),
    updatedAt: t.clock.now.toISOString(),
    ...fields,
  });
  return { instanceId, secret, clientKey: `datacenter:${instanceId}` };
}

export interface DcPostOptions {
  eventKey?: string | null;
  requestId?: string | null;
  /** Signs with this secret instead of the instance's; null sends no signature. */
  secret?: string | null;
  signature?: string;
  headers?: Record<string, string>;
  path?: string;
}

/** Posts a delivery as Data Center does: raw bytes, X-Hub-Signature over them, X-Event-Key, X-Request-Id. */
export function postDcWebhook(t: TestApp, instance: RegisteredInstance, body: Buffer | string, o: DcPostOptions = {}) {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  let req = request(t.app)
    .post(o.path ?? `/datacenter/webhook/${instance.instanceId}`)
    .set('Content-Type', 'application/json; charset=UTF-8');
  const secret = o.secret === undefined ? instance.secret : o.secret;
  if (o.signature !== undefined) req = req.set('X-Hub-Signature', o.signature);
  else if (secret !== null) req = req.set('X-Hub-Signature', signBody(secret, bytes));
  const eventKey = o.eventKey === undefined ? eventKeyOf(bytes) : o.eventKey;
  if (eventKey) req = req.set('X-Event-Key', eventKey);
  const requestId = o.requestId === undefined ? randomUUID() : o.requestId;
  if (requestId !== null) req = req.set('X-Request-Id', requestId);
  for (const [name, value] of Object.entries(o.headers ?? {})) req = req.set(name, value);
  // superagent JSON-encodes a Buffer sent as application/json: send the exact bytes instead.
  return req.serialize((data: Buffer) => data as unknown as string).send(bytes);
}

function eventKeyOf(bytes: Buffer): string | undefined {
  try {
    const key = (JSON.parse(bytes.toString('utf8')) as { eventKey?: unknown }).eventKey;
    return typeof key === 'string' ? key : undefined;
  } catch {
    return undefined;
  }
}
