import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * A worker thread whose entry sits beside the module that starts it: `name.ts` from the
 * sources (tsx, tests), `name.js` once compiled to dist/.
 */
export function siblingEntry(moduleUrl: string, name: string): URL {
  return new URL(`./${name}${path.extname(fileURLToPath(moduleUrl))}`, moduleUrl);
}

/**
 * From the TypeScript sources the entry is TypeScript, and Node 20 gives a worker neither
 * the parent's loader hooks nor an `--import` from execArgv, so such a thread registers tsx
 * itself before importing its entry.
 */
export function startThread(entry: URL, options: WorkerOptions): Worker {
  if (!entry.pathname.endsWith('.ts')) return new Worker(entry, options);
  const tsx = import.meta.resolve('tsx/esm/api');
  const bootstrap = `import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(bootstrap, { ...options, eval: true, execArgv: [] });
}
