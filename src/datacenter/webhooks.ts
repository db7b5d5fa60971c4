import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Dispatcher } from '../core/dispatch.ts';
import { decryptSecret } from '../crypto.ts';
import { readBody } from '../http/body.ts';
import { HttpError, sendError, sendJson } from '../http/errors.ts';
import { respondToIntakeError } from '../http/intake-errors.ts';
import { deliveryIdOf, header, jsonObjectBody, recordAndAcknowledge } from '../http/intake-record.ts';
import { fixedSecurityHeaders } from '../http/security.ts';
import type { Logger } from '../log.ts';
import type { DatacenterInstance, Store } from '../store/types.ts';
import { parseDatacenterEvent, PING_EVENT } from './events/index.ts';
import { tenantKeyOf, WEBHOOK_PATH_PREFIX } from './instance.ts';
import { matchesAny, parseSignatureHeader } from './signature.ts';

/** The same limit as the Cloud intake: Data Center payloads are a few KB. */
export const DATACENTER_WEBHOOK_BODY_LIMIT = 1024 * 1024;

const INSTANCE_ID = /^[A-Za-z0-9_-]{1,64}$/;
/** Decrypted secrets kept in memory (by envelope): a handful per instance, bounded for safety. */
const MAX_CACHED_SECRETS = 1024;

export interface DatacenterWebhookDeps {
  /** BASE_URL's path, when the app is served under one ('' otherwise). */
  basePath: string;
  store: Pick<Store, 'getDatacenterInstance'>;
  encryptionKey: Buffer;
  dispatcher: Dispatcher;
  logger: Logger;
  now: () => Date;
}

export interface DatacenterWebhookIntake {
  /** True for a POST to `/datacenter/webhook/{instanceId}`, at the root or under BASE_URL's path. */
  handles(req: IncomingMessage): boolean;
  /** Answers the request itself; never throws, never leaves it unanswered. */
  handle(req: IncomingMessage, res: ServerResponse): void;
}

/**
 * Data Center deliveries, on plain node:http like the Cloud intake (src/connect/webhooks.ts)
 * and for the same reason: it is the route called at volume.
 *
 * Verify, then receive. The signature header must be present and well-formed before a byte
 * of body is read; the body is then read (bounded), and its HMAC checked against the
 * instance's secret, and the previous one while a rotation's grace period lasts, before
 * anything parses it. An unknown instance costs the same work: its body is read and checked
 * against two throwaway secrets, so the answer (404) comes in the time a wrong signature's
 * (401) does and timing does not tell which instance ids exist. Then parse, validate,
 * record + enqueue in one store step, and answer 202.
 */
export function datacenterWebhookIntake(deps: DatacenterWebhookDeps): DatacenterWebhookIntake {
  const prefixes = [WEBHOOK_PATH_PREFIX, ...(deps.basePath ? [`${deps.basePath}${WEBHOOK_PATH_PREFIX}`] : [])];
  const security = fixedSecurityHeaders();
  const closing = [...security, 'Connection', 'close'];
  const errors = { logger: deps.logger, security, closing, label: 'Data Center webhook', tenant: 'instance', path: WEBHOOK_PATH_PREFIX };
  const secrets = new Map<string, string>();
  // Stands in for a missing secret, so every request computes the same two HMACs.
  const dummy = randomBytes(32).toString('base64url');

  function instanceIdOf(req: IncomingMessage): string | undefined {
    const url = req.url ?? '';
    const q = url.indexOf('?');
    const path = (q === -1 ? url : url.slice(0, q)).replace(/\/$/, '');
    const prefix = prefixes.find((p) => path.startsWith(p));
    return prefix === undefined ? undefined : path.slice(prefix.length);
  }

  function secretOf(envelope: string): string {
    const known = secrets.get(envelope);
    if (known !== undefined) return known;
    const secret = decryptSecret(deps.encryptionKey, envelope);
    if (secrets.size >= MAX_CACHED_SECRETS) secrets.clear();
    secrets.set(envelope, secret);
    return secret;
  }

  /** Always two: the current secret and the previous one in its grace period, or stand-ins. */
  function secretsFor(instance: DatacenterInstance | undefined): [string, string] {
    if (!instance) return [dummy, dummy];
    const previous = instance.previousWebhookSecret;
    const inGrace = previous !== undefined && Date.parse(previous.validUntil) > deps.now().getTime();
    return [secretOf(instance.encryptedWebhookSecret), inGrace ? secretOf(previous.encrypted) : dummy];
  }

  async function receive(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const signature = parseSignatureHeader(header(req, 'x-hub-signature'));
    if (!signature.ok) {
      const message =
        signature.problem === 'missing'
          ? 'No X-Hub-Signature header: set the webhook secret in Bitbucket to the one Gatehouse printed at registration'
          : 'X-Hub-Signature must be sha256=<64 hex characters>';
      sendError(res, 401, `${signature.problem}_signature`, message, closing);
      return;
    }
    const requested = instanceIdOf(req) ?? '';
    const bytes = await readBody(req, DATACENTER_WEBHOOK_BODY_LIMIT);
    const instance = INSTANCE_ID.test(requested) ? await deps.store.getDatacenterInstance(requested) : undefined;
    const verified = matchesAny(bytes, signature.digest, secretsFor(instance));
    if (!instance) throw new HttpError(404, 'unknown_instance', 'No Data Center instance is registered under this webhook URL');
    if (!verified) {
      throw new HttpError(401, 'bad_signature', 'X-Hub-Signature does not match the body: the webhook secret in Bitbucket differs from the one registered');
    }

    const clientKey = tenantKeyOf(instance.instanceId);
    const headerEvent = header(req, 'x-event-key');
    if (headerEvent === PING_EVENT) {
      deps.logger.info({ clientKey }, 'Data Center connection test answered');
      sendJson(res, 200, { status: 'ok' }, security);
      return;
    }
    const body = jsonObjectBody(bytes);
    const bodyEvent = typeof body.eventKey === 'string' ? body.eventKey : undefined;
    const eventKey = headerEvent ?? bodyEvent;
    if (!eventKey) throw new HttpError(400, 'missing_event_key', 'No X-Event-Key header and no "eventKey" in the body');
    if (headerEvent && bodyEvent && headerEvent !== bodyEvent) {
      throw new HttpError(400, 'event_key_mismatch', `X-Event-Key "${headerEvent}" disagrees with body eventKey "${bodyEvent}"`);
    }
    if (eventKey === PING_EVENT) {
      sendJson(res, 200, { status: 'ok' }, security);
      return;
    }

    const deliveryId = deliveryIdOf(req, 'X-Request-Id', bytes);
    const parsed = parseDatacenterEvent(body, { deliveryId, sourceEvent: eventKey, instanceId: instance.instanceId });
    await recordAndAcknowledge(res, parsed.kind === 'unhandled' ? { kind: 'ignored', reason: `Gatehouse does not act on ${eventKey}` } : parsed, {
      dispatcher: deps.dispatcher,
      logger: deps.logger,
      security,
      label: 'Data Center webhook',
      clientKey,
      eventKey,
      deliveryId,
    });
  }

  return {
    handles(req) {
      return req.method === 'POST' && instanceIdOf(req) !== undefined;
    },
    handle(req, res) {
      receive(req, res).catch((err: unknown) => respondToIntakeError(req, res, err, errors));
    },
  };
}
