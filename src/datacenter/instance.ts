import { randomBytes } from 'node:crypto';
import type { DatacenterInstance } from '../store/types.ts';

/**
 * What a registered Data Center instance is to the rest of the app: the prefix of its tenant
 * key, the webhook URL it posts to, and the view of it that may be shown (no token, no secret).
 */

/** Everything the core stores for an instance (deliveries, jobs, results) is keyed `datacenter:<instanceId>`. */
export const DATACENTER_TENANT_PREFIX = 'datacenter:';

export const WEBHOOK_PATH_PREFIX = '/datacenter/webhook/';


export function tenantKeyOf(instanceId: string): string {
  return `${DATACENTER_TENANT_PREFIX}${instanceId}`;
}

/** The instance id of a tenant key, or undefined for any other kind of tenant. */
export function instanceIdOf(tenantKey: string): string | undefined {
  return tenantKey.startsWith(DATACENTER_TENANT_PREFIX) ? tenantKey.slice(DATACENTER_TENANT_PREFIX.length) : undefined;
}

/**
 * 24 lower-case hex characters (96 random bits). Letters and digits only: the id is a path
 * segment of the webhook URL and part of repository identities (`{dc-<id>-<repoId>}`), which
 * the JSON API accepts as braced UUIDs of letters, digits and dashes.
 */
export function newInstanceId(): string {
  return randomBytes(12).toString('hex');
}

/** 32 random bytes, base64url: what `add` generates when no webhook secret is given. */
export function newWebhookSecret(): string {
  return randomBytes(32).toString('base64url');
}

export function webhookUrlOf(publicBaseUrl: string, instanceId: string): string {
  return `${publicBaseUrl.replace(/\/+$/, '')}${WEBHOOK_PATH_PREFIX}${instanceId}`;
}

/**
 * The base URL as stored: http or https (Data Center often runs on an internal http
 * address), no credentials, query or fragment, host lower-cased and default port dropped
 * (URL does both), no trailing slash; a context path (`/bitbucket`) is kept.
 * Returns a reason instead when the URL cannot be used.
 */
export function normaliseBaseUrl(raw: string): { ok: true; url: string } | { ok: false; reason: string } {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    return { ok: false, reason: 'expected an absolute URL such as https://bitbucket.example.com' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { ok: false, reason: 'expected an http or https URL' };
  if (url.username || url.password) return { ok: false, reason: 'the URL must not carry credentials (give the token with --token-file)' };
  if (url.search || url.hash || raw.includes('?') || raw.includes('#')) return { ok: false, reason: 'the URL must not have a query or fragment' };
  return { ok: true, url: `${url.origin}${url.pathname.replace(/\/+$/, '')}` };
}

/** The instance as the CLI and the admin API show it: never a token or a secret. */
export interface InstanceView {
  instanceId: string;
  name: string;
  baseUrl: string;
  webhookUrl: string;
  status: DatacenterInstance['status'];
  lastError?: { message: string; at: string };
  /** Until when the secret replaced by rotate-secret is still accepted. */
  previousSecretValidUntil?: string;
  createdAt: string;
  updatedAt: string;
}

export function viewOf(instance: DatacenterInstance, publicBaseUrl: string): InstanceView {
  return {
    instanceId: instance.instanceId,
    name: instance.name,
    baseUrl: instance.baseUrl,
    webhookUrl: webhookUrlOf(publicBaseUrl, instance.instanceId),
    status: instance.status,
    ...(instance.lastError ? { lastError: { ...instance.lastError } } : {}),
    ...(instance.previousWebhookSecret ? { previousSecretValidUntil: instance.previousWebhookSecret.validUntil } : {}),
    createdAt: instance.createdAt,
    updatedAt: instance.updatedAt,
  };
}
