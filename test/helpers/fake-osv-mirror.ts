import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { strToU8, zipSync } from 'fflate';

/**
 * A stand-in for the OSV bucket on 127.0.0.1: serves whatever bodies a test puts at a path
 * and can misbehave on request (drop the connection part-way through a body).
 */
export type Route =
  | { body: Uint8Array | string; contentType?: string }
  /** Sends this many bytes of the body, then drops the connection. */
  | { dropAfter: number; body: Uint8Array }
  /** Sends this many bytes of the body, then goes silent with the connection open. */
  | { stallAfter: number; body: Uint8Array };

export interface FakeMirror {
  url: string;
  routes: Map<string, Route>;
  /** Paths requested so far, in order. */
  requests: string[];
  close(): Promise<void>;
}

export async function startFakeMirror(): Promise<FakeMirror> {
  const routes = new Map<string, Route>();
  const requests: string[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    requests.push(path);
    const route = routes.get(path);
    if (!route) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    const body = typeof route.body === 'string' ? Buffer.from(route.body) : Buffer.from(route.body);
    res.writeHead(200, { 'content-type': 'contentType' in route && route.contentType ? route.contentType : 'application/octet-stream', 'content-length': body.length });
    if ('dropAfter' in route) {
      res.write(body.subarray(0, route.dropAfter), () => res.socket?.destroy());
      return;
    }
    if ('stallAfter' in route) {
      res.write(body.subarray(0, route.stallAfter));
      return;
    }
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    routes,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** An OSV export archive: one `<id>.json` per record, deflated as OSV's all.zip is. */
export function osvZip(records: readonly { id: string }[], level: 1 | 6 = 6): Uint8Array {
  const files: Record<string, Uint8Array> = {};
  for (const record of records) files[`${record.id}.json`] = strToU8(JSON.stringify(record));
  return zipSync(files, { level });
}

/** modified_id.csv: `<modified>,<id>`, newest first. */
export function modifiedCsv(records: readonly { id: string; modified?: string }[]): string {
  return `${[...records]
    .sort((a, b) => (b.modified ?? '').localeCompare(a.modified ?? ''))
    .map((r) => `${r.modified},${r.id}`)
    .join('\n')}\n`;
}
