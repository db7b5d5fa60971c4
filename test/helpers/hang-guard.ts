import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

/**
 * Evaluates `expression` in a worker thread with the named exports of each module in
 * `imports` (URL to names) and the fields of `data` (structured-cloneable) in scope, and resolves with its value. A stalled RegExp cannot be
 * interrupted on the test's own thread, so a test about one runs the matching here, where
 * the guard can give up after `guardMs` and terminate the thread: a hang guard, not a timing
 * assertion.
 */
export async function evaluateInWorker(
  imports: Record<string, readonly string[]>,
  expression: string,
  data: Record<string, unknown>,
  guardMs: number,
): Promise<unknown> {
  // tsx's ESM entry (the package's `import` condition), so the worker can load TypeScript.
  const tsxRoot = path.dirname(createRequire(import.meta.url).resolve('tsx/package.json'));
  const tsxApi = pathToFileURL(path.join(tsxRoot, 'dist', 'esm', 'api', 'index.mjs')).href;
  const names = Object.keys(data).join(', ');
  const urls = Object.keys(imports);
  const exported = Object.values(imports).flat().join(', ');
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    import(workerData.tsxApi)
      .then(({ register }) => { register(); return Promise.all(workerData.urls.map((url) => import(url))); })
      .then((modules) => {
        const { ${exported} } = Object.assign({}, ...modules);
        const { ${names} } = workerData.data;
        parentPort.postMessage(${expression});
      });`;
  const worker = new Worker(code, { eval: true, workerData: { tsxApi, urls, data } });
  try {
    return await new Promise((resolve, reject) => {
      const guard = setTimeout(() => reject(new Error(`did not finish within ${guardMs} ms: the thread doing it would be stalled`)), guardMs);
      worker.once('message', (value) => {
        clearTimeout(guard);
        resolve(value);
      });
      worker.once('error', reject);
    });
  } finally {
    await worker.terminate();
  }
}
