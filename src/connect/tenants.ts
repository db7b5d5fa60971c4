import { decryptSecret } from '../crypto.ts';
import type { Installation, Store } from '../store/types.ts';

/** An installation that can authenticate requests: installed and holding a secret. */
export interface ActiveTenant {
  installation: Installation;
  sharedSecret: string;
}

/**
 * Decrypted secrets by envelope. Every signed request needs its tenant's secret, and an
 * AES-GCM decryption per request was a measurable share of a webhook acknowledgement. Keyed
 * by the envelope itself, so a reinstall (new envelope) or an uninstall (no envelope) can
 * never be answered from a stale entry. The secrets are in this process's memory either
 * way; the cache only keeps them there a little longer, and is bounded. One cache per
 * encryption key, so a different key never reads another's entries.
 */
const MAX_CACHED_SECRETS = 10_000;
const decryptedByKey = new WeakMap<Buffer, Map<string, string>>();

function sharedSecretOf(encryptionKey: Buffer, envelope: string): string {
  let decrypted = decryptedByKey.get(encryptionKey);
  if (!decrypted) decryptedByKey.set(encryptionKey, (decrypted = new Map()));
  const cached = decrypted.get(envelope);
  if (cached !== undefined) return cached;
  const secret = decryptSecret(encryptionKey, envelope);
  if (decrypted.size >= MAX_CACHED_SECRETS) decrypted.delete(decrypted.keys().next().value as string);
  decrypted.set(envelope, secret);
  return secret;
}

/**
 * Looks up an installation and decrypts its shared secret. Uninstalled installations have
 * no secret (it is destroyed on uninstall), so they authenticate nothing.
 */
export async function activeTenant(store: Store, encryptionKey: Buffer, clientKey: string): Promise<ActiveTenant | undefined> {
  const installation = await store.getInstallation(clientKey);
  if (!installation || installation.state !== 'installed' || installation.encryptedSharedSecret === null) return undefined;
  return { installation, sharedSecret: sharedSecretOf(encryptionKey, installation.encryptedSharedSecret) };
}
