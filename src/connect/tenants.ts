import { decryptSecret } from '../crypto.ts';
import type { Installation, Store } from '../store/types.ts';

/** An installation that can authenticate requests: installed and holding a secret. */
export interface ActiveTenant {
  installation: Installation;
  sharedSecret: string;
}

/**
 * Looks up an installation and decrypts its shared secret. Uninstalled installations have
 * no secret (it is destroyed on uninstall), so they authenticate nothing.
 */
export async function activeTenant(store: Store, encryptionKey: Buffer, clientKey: string): Promise<ActiveTenant | undefined> {
  const installation = await store.getInstallation(clientKey);
  if (!installation || installation.state !== 'installed' || installation.encryptedSharedSecret === null) return undefined;
  return { installation, sharedSecret: decryptSecret(encryptionKey, installation.encryptedSharedSecret) };
}
