// The acknowledgement benches' server child: the app in-process on a LowdbStore in a temporary
// DATA_DIR with no job runner, so what is timed is the webhook route alone. Prints
// {"port": N} once listening; SIGTERM closes the store and removes the directory.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, openSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { LowdbStore } from '../src/store/lowdb-store.ts';

export interface AckAppOptions {
  /** Names the temporary DATA_DIR. */
  dirPrefix: string;
  baseUrl: string;
  /** Registers the tenant the load signs for (and any history) before the server listens. */
  seed(store: LowdbStore, encryptionKey: Buffer): Promise<void>;
  tenantQueueLimit?: number;
  onListening?(server: Server): void;
}

export async function serveAckApp(o: AckAppOptions): Promise<void> {
  const { createApp } = await import('../src/app.ts');
  const { createLogger, logDestination } = await import('../src/log.ts');
  const { LowdbStore } = await import('../src/store/lowdb-store.ts');
  const dataDir = mkdtempSync(path.join(tmpdir(), o.dirPrefix));
  const encryptionKey = randomBytes(32);
  const store = new LowdbStore({ dataDir });
  await store.open();
  await o.seed(store, encryptionKey);
  const config = {
    production: false,
    port: 0,
    baseUrl: o.baseUrl,
    dataDir,
    appKey: 'gatehouse',
    encryptionKey,
    bitbucketBaseUrls: ['https://bitbucket.org'],
    bitbucketApiUrls: ['https://api.bitbucket.org'],
    osvMirrorUrl: 'https://osv-vulnerabilities.storage.googleapis.com',
    logLevel: 'info' as const,
    ...(o.tenantQueueLimit === undefined ? {} : { tenantQueueLimit: o.tenantQueueLimit }),
  };
  // Info-level logs go to /dev/null: their cost is part of an acknowledgement, the noise is not.
  const logger = createLogger('info', logDestination(openSync('/dev/null', 'w')));
  const server = createServer(createApp({ config, store, logger })).listen(0, '127.0.0.1', () => {
    o.onListening?.(server);
    const address = server.address();
    process.stdout.write(`${JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 })}\n`);
  });
  process.on('SIGTERM', () => {
    server.close();
    server.closeAllConnections();
    void store.close().finally(() => {
      rmSync(dataDir, { recursive: true, force: true });
      process.exit(0);
    });
  });
}
