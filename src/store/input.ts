import type { DatacenterInstance, DatacenterInstanceStatus, Delivery, ForgeInstallation, Installation, Job, JobFilter, JobStatus, NewJob } from './types.ts';

/**
 * Checks on what callers hand a Store, shared by every implementation so they reject the
 * same inputs with the same messages. Each returns a copy holding only the known fields,
 * so nothing a caller adds by accident is persisted.
 */

export const JOB_STATUSES: readonly JobStatus[] = ['queued', 'running', 'done', 'dead'];

function fail(message: string): never {
  throw new TypeError(message);
}

function text(value: unknown, name: string): string {
  if (typeof value !== 'string' || value.length === 0) fail(`${name} must be a non-empty string`);
  return value;
}

const MAX_TIME = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** Canonical UTC form, so that stored times compare correctly as text. */
function isoTime(value: unknown, name: string): string {
  const ms = typeof value === 'string' ? Date.parse(value) : NaN;
  if (Number.isNaN(ms) || ms < 0 || ms > MAX_TIME) fail(`${name} must be an ISO 8601 time between 1970 and 9999`);
  return new Date(ms).toISOString();
}

export function checkDelivery(value: Omit<Delivery, 'jobId' | 'receivedAt'>): Omit<Delivery, 'jobId' | 'receivedAt'> {
  if (typeof value !== 'object' || value === null) fail('delivery must be an object');
  return { id: text(value.id, 'delivery.id'), clientKey: text(value.clientKey, 'delivery.clientKey'), event: text(value.event, 'delivery.event') };
}

/** Returns the job's fields and its payload as JSON text. */
export function checkNewJob(value: NewJob): { job: Omit<NewJob, 'payload'>; payloadJson: string } {
  if (typeof value !== 'object' || value === null) fail('job must be an object or null');
  const job: Omit<NewJob, 'payload'> = { clientKey: text(value.clientKey, 'job.clientKey'), type: text(value.type, 'job.type') };
  if (value.group !== undefined) job.group = text(value.group, 'job.group');
  if (value.supersedes !== undefined) {
    if (typeof value.supersedes !== 'boolean') fail('job.supersedes must be a boolean');
    if (value.supersedes && job.group === undefined) fail('job.supersedes needs a job.group');
    if (value.supersedes) job.supersedes = true;
  }
  let payloadJson: string | undefined;
  try {
    payloadJson = JSON.stringify(value.payload);
  } catch (err) {
    fail(`job.payload must be JSON-serialisable: ${(err as Error).message}`);
  }
  if (payloadJson === undefined) fail('job.payload must be JSON-serialisable (got undefined or a function)');
  return { job, payloadJson };
}

export type JobPatch = Partial<Pick<Job, 'status' | 'attempts' | 'runAfter' | 'lastError'>>;

export function checkJobPatch(value: JobPatch): JobPatch {
  if (typeof value !== 'object' || value === null) fail('job update must be an object');
  const allowed = new Set(['status', 'attempts', 'runAfter', 'lastError']);
  for (const key of Object.keys(value)) if (!allowed.has(key)) fail(`job update has an unknown field "${key}"`);
  const patch: JobPatch = {};
  if (value.status !== undefined) {
    if (!JOB_STATUSES.includes(value.status)) fail(`job status must be one of ${JOB_STATUSES.join(', ')}`);
    patch.status = value.status;
  }
  if (value.attempts !== undefined) {
    if (!Number.isSafeInteger(value.attempts) || value.attempts < 0) fail('job attempts must be a whole number >= 0');
    patch.attempts = value.attempts;
  }
  if (value.runAfter !== undefined) patch.runAfter = isoTime(value.runAfter, 'job runAfter');
  if (value.lastError !== undefined) {
    if (typeof value.lastError !== 'string') fail('job lastError must be a string');
    patch.lastError = value.lastError;
  }
  return patch;
}

export function checkClaim(limit: number, now: Date): void {
  if (!Number.isSafeInteger(limit) || limit < 0) fail('claim limit must be a whole number >= 0');
  if (!(now instanceof Date) || Number.isNaN(now.getTime()) || now.getTime() < 0 || now.getTime() > MAX_TIME) {
    fail('claim time must be a valid Date between 1970 and 9999');
  }
}

const STATES: readonly Installation['state'][] = ['installed', 'uninstalled'];

/**
 * A copy that shares nothing mutable with the original. Installations are flat apart from
 * `principal` (flat itself); every signed request reads one, so this is spelled out rather
 * than left to structuredClone, which cost more than the rest of the lookup.
 */
export function copyInstallation(value: Installation): Installation {
  return value.principal ? { ...value, principal: { ...value.principal } } : { ...value };
}

/** Returns a deep, JSON-only copy of the installation. */
export function checkInstallation(value: Installation): Installation {
  if (typeof value !== 'object' || value === null) fail('installation must be an object');
  text(value.clientKey, 'installation.clientKey');
  text(value.key, 'installation.key');
  text(value.baseUrl, 'installation.baseUrl');
  text(value.baseApiUrl, 'installation.baseApiUrl');
  isoTime(value.installedAt, 'installation.installedAt');
  isoTime(value.updatedAt, 'installation.updatedAt');
  if (value.encryptedSharedSecret !== null && typeof value.encryptedSharedSecret !== 'string') {
    fail('installation.encryptedSharedSecret must be a string or null');
  }
  if (!STATES.includes(value.state)) fail(`installation.state must be one of ${STATES.join(', ')}`);
  if (
    value.principal !== undefined &&
    (typeof value.principal !== 'object' || value.principal === null || Object.values(value.principal).some((v) => typeof v !== 'string'))
  ) {
    fail('installation.principal must be an object of strings');
  }
  return JSON.parse(JSON.stringify(value)) as Installation;
}

/** An encrypted system token with its expiry; returns a copy. */
export function checkForgeSystemToken(value: { encrypted: string; expiresAt: string }): { encrypted: string; expiresAt: string } {
  if (typeof value !== 'object' || value === null) fail('forgeInstallation.systemToken must be an object or null');
  text(value.encrypted, 'forgeInstallation.systemToken.encrypted');
  isoTime(value.expiresAt, 'forgeInstallation.systemToken.expiresAt');
  return { encrypted: value.encrypted, expiresAt: value.expiresAt };
}

/** Returns a deep, JSON-only copy of the Forge installation. */
export function checkForgeInstallation(value: ForgeInstallation): ForgeInstallation {
  if (typeof value !== 'object' || value === null) fail('forge installation must be an object');
  text(value.installationId, 'forgeInstallation.installationId');
  text(value.clientKey, 'forgeInstallation.clientKey');
  text(value.workspaceId, 'forgeInstallation.workspaceId');
  text(value.apiBaseUrl, 'forgeInstallation.apiBaseUrl');
  isoTime(value.installedAt, 'forgeInstallation.installedAt');
  isoTime(value.updatedAt, 'forgeInstallation.updatedAt');
  if (value.appVersion !== null && typeof value.appVersion !== 'string') fail('forgeInstallation.appVersion must be a string or null');
  const env = value.environment as unknown;
  if (typeof env !== 'object' || env === null || [value.environment.type, value.environment.id].some((v) => v !== null && typeof v !== 'string')) {
    fail('forgeInstallation.environment must be {type, id}, strings or null');
  }
  if (!STATES.includes(value.state)) fail(`forgeInstallation.state must be one of ${STATES.join(', ')}`);
  if (value.systemToken !== null) checkForgeSystemToken(value.systemToken);
  return JSON.parse(JSON.stringify(value)) as ForgeInstallation;
}

export function checkDeadJobRead(value: { limit: number; clientKey?: string }): { limit: number; clientKey?: string } {
  if (typeof value !== 'object' || value === null) fail('dead job read must be an object');
  if (!Number.isSafeInteger(value.limit) || value.limit < 0) fail('dead job read limit must be a whole number >= 0');
  if (value.clientKey !== undefined && typeof value.clientKey !== 'string') fail('dead job read clientKey must be a string');
  return value.clientKey === undefined ? { limit: value.limit } : { limit: value.limit, clientKey: value.clientKey };
}

export function checkJobFilter(value: JobFilter | undefined): JobFilter {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null) fail('job filter must be an object');
  const allowed = new Set(['status', 'clientKey', 'type', 'group', 'newestFirst', 'limit']);
  for (const key of Object.keys(value)) if (!allowed.has(key)) fail(`job filter has an unknown field "${key}"`);
  if (value.status !== undefined && !JOB_STATUSES.includes(value.status)) fail(`job status must be one of ${JOB_STATUSES.join(', ')}`);
  for (const key of ['clientKey', 'type', 'group'] as const) {
    if (value[key] !== undefined && typeof value[key] !== 'string') fail(`job filter ${key} must be a string`);
  }
  if (value.newestFirst !== undefined && typeof value.newestFirst !== 'boolean') fail('job filter newestFirst must be a boolean');
  if (value.limit !== undefined && (!Number.isSafeInteger(value.limit) || value.limit < 0)) fail('job filter limit must be a whole number >= 0');
  return { ...value };
}

export const DATACENTER_STATUSES: readonly DatacenterInstanceStatus[] = ['ok', 'token_revoked', 'unreachable'];
const INSTANCE_ID = /^[A-Za-z0-9_-]{1,64}$/;
const MAX_NAME = 200;
const MAX_ERROR_TEXT = 2000;

function absoluteHttpUrl(value: unknown, name: string): string {
  const raw = text(value, name);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    fail(`${name} must be an absolute URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') fail(`${name} must be an http or https URL`);
  if (url.username || url.password || url.search || url.hash || raw.endsWith('/')) {
    fail(`${name} must be normalised: no credentials, query, fragment or trailing slash`);
  }
  return raw;
}

export function checkDatacenterLastError(value: unknown): { message: string; at: string } {
  if (typeof value !== 'object' || value === null) fail('datacenter instance lastError must be an object');
  const { message, at } = value as { message?: unknown; at?: unknown };
  if (typeof message !== 'string') fail('datacenter instance lastError.message must be a string');
  return { message: message.slice(0, MAX_ERROR_TEXT), at: isoTime(at, 'datacenter instance lastError.at') };
}

export function checkDatacenterStatus(value: unknown): DatacenterInstanceStatus {
  if (!DATACENTER_STATUSES.includes(value as DatacenterInstanceStatus)) fail(`datacenter instance status must be one of ${DATACENTER_STATUSES.join(', ')}`);
  return value as DatacenterInstanceStatus;
}

/** Returns a copy holding only the known fields. */
export function checkDatacenterInstance(value: DatacenterInstance): DatacenterInstance {
  if (typeof value !== 'object' || value === null) fail('datacenter instance must be an object');
  if (typeof value.instanceId !== 'string' || !INSTANCE_ID.test(value.instanceId)) {
    fail('datacenter instance instanceId must be 1-64 characters of A-Z, a-z, 0-9, _ and -');
  }
  const name = text(value.name, 'datacenter instance name');
  if (name.length > MAX_NAME || name.trim() !== name) fail(`datacenter instance name must be at most ${MAX_NAME} characters without surrounding spaces`);
  const copy: DatacenterInstance = {
    instanceId: value.instanceId,
    name,
    baseUrl: absoluteHttpUrl(value.baseUrl, 'datacenter instance baseUrl'),
    encryptedToken: text(value.encryptedToken, 'datacenter instance encryptedToken'),
    encryptedWebhookSecret: text(value.encryptedWebhookSecret, 'datacenter instance encryptedWebhookSecret'),
    status: checkDatacenterStatus(value.status),
    createdAt: isoTime(value.createdAt, 'datacenter instance createdAt'),
    updatedAt: isoTime(value.updatedAt, 'datacenter instance updatedAt'),
  };
  if (value.previousWebhookSecret !== undefined) {
    const previous = value.previousWebhookSecret as { encrypted?: unknown; validUntil?: unknown } | null;
    if (typeof previous !== 'object' || previous === null) fail('datacenter instance previousWebhookSecret must be an object');
    copy.previousWebhookSecret = {
      encrypted: text(previous.encrypted, 'datacenter instance previousWebhookSecret.encrypted'),
      validUntil: isoTime(previous.validUntil, 'datacenter instance previousWebhookSecret.validUntil'),
    };
  }
  if (value.lastError !== undefined) copy.lastError = checkDatacenterLastError(value.lastError);
  return copy;
}

export function copyDatacenterInstance(value: DatacenterInstance): DatacenterInstance {
  const copy = { ...value };
  if (value.previousWebhookSecret) copy.previousWebhookSecret = { ...value.previousWebhookSecret };
  if (value.lastError) copy.lastError = { ...value.lastError };
  return copy;
}
