import http from 'node:http';
import net from 'node:net';

/**
 * A load balancer for tests: HTTP requests go round-robin to the live backends; a backend
 * that refuses the connection (killed) is skipped for that request, as a balancer's health
 * check would. Bodies are buffered (webhooks are small), so a request can be sent again.
 */
export interface Balancer {
  url: string;
  /** Requests each backend answered, by port. */
  answered: Map<number, number>;
  close(): Promise<void>;
}

export async function startBalancer(backends: () => number[]): Promise<Balancer> {
  let next = 0;
  const answered = new Map<number, number>();
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const ports = backends();
    for (let tried = 0; tried < ports.length; tried++) {
      const port = ports[next++ % ports.length]!;
      try {
        const answer = await forward(port, req, body);
        answered.set(port, (answered.get(port) ?? 0) + 1);
        res.writeHead(answer.status, answer.headers);
        res.end(answer.body);
        return;
      } catch {
        // Connection refused or reset: the next backend.
      }
    }
    res.writeHead(502, { 'content-type': 'application/json' });
    res.end('{"error":{"code":"no_backend","message":"no backend answered"}}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    answered,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function forward(port: number, req: http.IncomingMessage, body: Buffer): Promise<{ status: number; headers: http.OutgoingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const out = http.request({ host: '127.0.0.1', port, method: req.method, path: req.url, headers: { ...req.headers, connection: 'close' } }, (answer) => {
      const chunks: Buffer[] = [];
      answer.on('data', (c: Buffer) => chunks.push(c));
      answer.on('end', () => {
        const headers = { ...answer.headers };
        delete headers['transfer-encoding'];
        delete headers.connection;
        resolve({ status: answer.statusCode ?? 502, headers, body: Buffer.concat(chunks) });
      });
      answer.on('error', reject);
    });
    out.on('error', reject);
    out.end(body);
  });
}
