import { request } from 'node:http';
import { InputError } from '../errors.ts';

/**
 * One JSON request to the Bitbucket API through the pipeline's proxy. Inside a Bitbucket
 * Pipelines step, `localhost:29418` is an HTTP proxy that adds the build's own credentials
 * to Code Insights calls, so the step needs no token: the request goes to the proxy with
 * the absolute `http://api.bitbucket.org/...` URL as its target, as plain-HTTP proxying does.
 */
export function sendThroughProxy(proxy: URL, method: 'PUT' | 'POST' | 'DELETE', url: URL, body: unknown): Promise<void> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: proxy.hostname,
        port: proxy.port || 80,
        method,
        path: url.href,
        headers: { host: url.host, ...(payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }) },
        timeout: 30_000,
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          if (text.length < 2_000) text += chunk;
        });
        response.on('end', () => {
          const status = response.statusCode ?? 0;
          // DELETE of a report that does not exist yet is the normal first run.
          if ((status >= 200 && status < 300) || (method === 'DELETE' && status === 404)) resolve();
          else reject(new InputError(`${method} ${url.pathname}: Bitbucket answered ${status} ${text.replace(/\s+/g, ' ').slice(0, 300)}`));
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('no answer within 30 s')));
    req.on('error', (error: NodeJS.ErrnoException) => reject(new InputError(`cannot reach the pipeline's proxy at ${proxy.origin} (${error.code ?? error.message}); is this a Bitbucket Pipelines step?`)));
    req.end(payload);
  });
}
