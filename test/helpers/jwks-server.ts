import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ForgeTokenAuthority } from '../../src/simulator/forge/tokens.ts';

/** How the stand-in JWKS endpoint behaves right now. */
export interface JwksBehaviour {
  mode: 'ok' | 'down' | 'slow' | 'garbage';
  slowMs: number;
}

/** A loopback JWKS endpoint serving a local Forge's keys, with knobs for outages. */
export async function startJwksServer(authority: ForgeTokenAuthority): Promise<{ url: string; hits: () => number; behaviour: JwksBehaviour; close: () => Promise<void> }> {
  let hits = 0;
  const behaviour: JwksBehaviour = { mode: 'ok', slowMs: 10_000 };
  const server: Server = createServer((_req, res) => {
    hits++;
    if (behaviour.mode === 'down') {
      res.writeHead(503).end('down');
      return;
    }
    if (behaviour.mode === 'garbage') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"keys": "no"}');
      return;
    }
    const send = () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(authority.jwks()));
    if (behaviour.mode === 'slow') setTimeout(send, behaviour.slowMs).unref();
    else send();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    hits: () => hits,
    behaviour,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
