import { decryptSecret, encryptSecret } from '../crypto.ts';
import { DatacenterNameTakenError, type DatacenterInstance, type DatacenterInstanceRegistry } from '../store/types.ts';
import { checkToken, InstanceCheckError, installWebhooks, type InstalledWebhook, type WebhookTarget } from './instance-api.ts';
import { newInstanceId, newWebhookSecret, normaliseBaseUrl, viewOf, webhookUrlOf, type InstanceView } from './instance.ts';

/**
 * Registering, listing, removing and rotating Data Center instances: one implementation
 * behind both the `gatehouse datacenter` command and the operator API, so the two cannot
 * answer differently. Failures are RegistrationErrors whose message says what to fix and
 * never contains the token or a secret.
 */

export type RegistrationProblem = 'invalid' | 'name_taken' | 'not_found' | 'check_failed';

export class RegistrationError extends Error {
  override name = 'RegistrationError';
  constructor(
    readonly problem: RegistrationProblem,
    message: string,
    /** For check failures: unreachable, unauthorized, forbidden... (instance-api.ts). */
    readonly detail?: string,
  ) {
    super(message);
  }
}

export interface RegistrationDeps {
  instances: DatacenterInstanceRegistry;
  encryptionKey: Buffer;
  /** BASE_URL: webhook URLs are built from it. */
  publicBaseUrl: string;
  now: () => Date;
  fetch?: typeof globalThis.fetch;
  timeoutMs?: number;
}

/** How long rotate-secret keeps accepting the old secret by default: a working day to update Bitbucket. */
export const DEFAULT_GRACE_MS = 24 * 60 * 60 * 1000;
const MAX_SECRET_LENGTH = 1024;
const MAX_TOKEN_LENGTH = 4096;

export interface AddInput {
  name: string;
  baseUrl: string;
  token: string;
  /** Generated when absent (and then printed once). */
  webhookSecret?: string;
  installWebhooks?: readonly WebhookTarget[];
}

export interface AddResult {
  instance: InstanceView;
  /** True when the name was already registered (same base URL): its token was replaced, its id kept. */
  updated: boolean;
  /** Only when it was generated here: the one time it is shown. */
  generatedSecret?: string;
  webhooks: InstalledWebhook[];
}

function hasControl(value: string): boolean {
  return [...value].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f);
}

function checkName(name: string): string {
  const trimmed = name.trim();
  if (trimmed === '' || trimmed.length > 200 || hasControl(trimmed)) {
    throw new RegistrationError('invalid', 'name: expected 1 to 200 printable characters');
  }
  return trimmed;
}

function checkSecretText(value: string, what: string, max: number): string {
  if (value === '' || value.length > max || hasControl(value) || /\s/.test(value)) {
    throw new RegistrationError('invalid', `${what}: expected 1 to ${max} printable characters without spaces`);
  }
  return value;
}

async function find(deps: RegistrationDeps, name: string): Promise<DatacenterInstance | undefined> {
  return (await deps.instances.listDatacenterInstances()).find((i) => i.name === name);
}

export async function findByName(deps: RegistrationDeps, name: string): Promise<DatacenterInstance> {
  const found = await find(deps, name.trim());
  if (!found) throw new RegistrationError('not_found', `no Data Center instance named ${JSON.stringify(name.trim())} is registered`);
  return found;
}

/**
 * Checks the token against the instance, then stores it. A name already registered for the
 * same base URL is updated in place (new token, same id and webhook URL, the secret kept
 * unless a new one is given), so running `add` again, e.g. to install webhooks on another
 * project or replace an expiring token, never creates a second instance.
 */
export async function addInstance(deps: RegistrationDeps, input: AddInput): Promise<AddResult> {
  const name = checkName(input.name);
  const base = normaliseBaseUrl(input.baseUrl);
  if (!base.ok) throw new RegistrationError('invalid', `base URL: ${base.reason}`);
  const token = checkSecretText(input.token, 'token', MAX_TOKEN_LENGTH);
  const givenSecret = input.webhookSecret === undefined ? undefined : checkSecretText(input.webhookSecret, 'webhook secret', MAX_SECRET_LENGTH);

  const existing = await find(deps, name);
  if (existing && existing.baseUrl !== base.url) {
    throw new RegistrationError('name_taken', `the name ${JSON.stringify(name)} is registered for ${existing.baseUrl}; remove it first or choose another name`);
  }
  const api = { baseUrl: base.url, token, ...(deps.fetch ? { fetch: deps.fetch } : {}), ...(deps.timeoutMs ? { timeoutMs: deps.timeoutMs } : {}) };
  const targets = input.installWebhooks ?? [];
  await checked(checkToken(api, targets));

  const at = deps.now().toISOString();
  const instanceId = existing?.instanceId ?? newInstanceId();
  const generatedSecret = givenSecret === undefined && !existing ? newWebhookSecret() : undefined;
  const secret = givenSecret ?? generatedSecret ?? decryptSecret(deps.encryptionKey, existing!.encryptedWebhookSecret);
  const instance: DatacenterInstance = {
    instanceId,
    name,
    baseUrl: base.url,
    encryptedToken: encryptSecret(deps.encryptionKey, token),
    encryptedWebhookSecret: givenSecret === undefined && existing ? existing.encryptedWebhookSecret : encryptSecret(deps.encryptionKey, secret),
    // A new secret replaces the old at once: whoever gave it has already put it into Bitbucket.
    ...(existing?.previousWebhookSecret && givenSecret === undefined ? { previousWebhookSecret: existing.previousWebhookSecret } : {}),
    // A token that just passed the check is good again.
    status: 'ok',
    createdAt: existing?.createdAt ?? at,
    updatedAt: at,
  };
  try {
    await deps.instances.putDatacenterInstance(instance);
  } catch (err) {
    if (err instanceof DatacenterNameTakenError) throw new RegistrationError('name_taken', err.message);
    throw err;
  }
  const webhookUrl = webhookUrlOf(deps.publicBaseUrl, instanceId);
  const webhooks =
    targets.length === 0
      ? []
      : await checked(installWebhooks(api, targets, { url: webhookUrl, ownedUrlPrefix: webhookUrlOf(deps.publicBaseUrl, ''), secret }), 'the instance is registered, but installing its webhooks failed');
  return { instance: viewOf(instance, deps.publicBaseUrl), updated: existing !== undefined, ...(generatedSecret ? { generatedSecret } : {}), webhooks };
}

export async function listInstances(deps: RegistrationDeps): Promise<InstanceView[]> {
  return (await deps.instances.listDatacenterInstances()).map((i) => viewOf(i, deps.publicBaseUrl));
}

/** Removes the instance; its webhooks then get 404 until they are deleted in Bitbucket. */
export async function removeInstance(deps: RegistrationDeps, name: string): Promise<InstanceView> {
  const instance = await findByName(deps, name);
  await deps.instances.deleteDatacenterInstance(instance.instanceId);
  return viewOf(instance, deps.publicBaseUrl);
}

export interface RotateResult {
  instance: InstanceView;
  webhookSecret: string;
  previousSecretValidUntil: string;
  webhooks: InstalledWebhook[];
}

/**
 * A new webhook secret; the current one stays valid until the grace period ends, so no
 * delivery is refused while the admin updates Bitbucket (or `installWebhooks` does it here).
 * A secret still in its grace period from an earlier rotation is dropped: two rotations in a
 * row mean the first new secret never reached Bitbucket.
 */
export async function rotateSecret(
  deps: RegistrationDeps,
  input: { name: string; webhookSecret?: string; graceMs?: number; installWebhooks?: readonly WebhookTarget[] },
): Promise<RotateResult> {
  const instance = await findByName(deps, input.name);
  const secret = input.webhookSecret === undefined ? newWebhookSecret() : checkSecretText(input.webhookSecret, 'webhook secret', MAX_SECRET_LENGTH);
  const graceMs = input.graceMs ?? DEFAULT_GRACE_MS;
  const now = deps.now();
  const validUntil = new Date(now.getTime() + graceMs).toISOString();
  const rotated: DatacenterInstance = {
    ...instance,
    encryptedWebhookSecret: encryptSecret(deps.encryptionKey, secret),
    previousWebhookSecret: { encrypted: instance.encryptedWebhookSecret, validUntil },
    updatedAt: now.toISOString(),
  };
  await deps.instances.putDatacenterInstance(rotated);
  const targets = input.installWebhooks ?? [];
  let webhooks: InstalledWebhook[] = [];
  if (targets.length > 0) {
    const api = { baseUrl: instance.baseUrl, token: decryptSecret(deps.encryptionKey, instance.encryptedToken), ...(deps.fetch ? { fetch: deps.fetch } : {}), ...(deps.timeoutMs ? { timeoutMs: deps.timeoutMs } : {}) };
    const url = webhookUrlOf(deps.publicBaseUrl, instance.instanceId);
    webhooks = await checked(installWebhooks(api, targets, { url, ownedUrlPrefix: webhookUrlOf(deps.publicBaseUrl, ''), secret }), 'the secret is rotated (the old one stays valid for the grace period), but updating the webhooks failed');
  }
  return { instance: viewOf(rotated, deps.publicBaseUrl), webhookSecret: secret, previousSecretValidUntil: validUntil, webhooks };
}

async function checked<T>(work: Promise<T>, context?: string): Promise<T> {
  try {
    return await work;
  } catch (err) {
    if (err instanceof InstanceCheckError) throw new RegistrationError('check_failed', context ? `${context}: ${err.message}` : err.message, err.problem);
    throw err;
  }
}
