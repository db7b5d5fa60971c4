import express from 'express';
import type { RequestHandler, Response } from 'express';
import { strToU8, zipSync } from 'fflate';
import { DEMO_ADVISORIES } from './osv-advisories.ts';

/**
 * A tiny OSV mirror laid out like OSV's public export bucket, so the app's `db update` runs
 * unchanged against it: `<ecosystem>/all.zip` (one `<id>.json` per record, deflated),
 * `<ecosystem>/modified_id.csv` (`<modified>,<id>`, newest first) and `<ecosystem>/<id>.json`.
 * Mount it as the `osv` web extension; the in-process app's OSV_MIRROR_URL points there.
 */

interface MirrorRecord {
  id: string;
  modified: string;
  affected?: { package?: { ecosystem?: string } }[];
}

interface EcosystemFiles {
  zip: Uint8Array;
  csv: string;
  byId: Map<string, string>;
}

function buildEcosystems(records: readonly MirrorRecord[]): Map<string, EcosystemFiles> {
  const grouped = new Map<string, MirrorRecord[]>();
  for (const record of records) {
    const ecosystems = new Set((record.affected ?? []).map((a) => a.package?.ecosystem).filter((e): e is string => Boolean(e)));
    for (const ecosystem of ecosystems) grouped.set(ecosystem, [...(grouped.get(ecosystem) ?? []), record]);
  }
  const result = new Map<string, EcosystemFiles>();
  for (const [ecosystem, list] of grouped) {
    const byId = new Map(list.map((r) => [r.id, JSON.stringify(r, null, 2)]));
    const entries = Object.fromEntries([...byId].map(([id, json]) => [`${id}.json`, strToU8(json)]));
    const newestFirst = [...list].sort((a, b) => b.modified.localeCompare(a.modified) || a.id.localeCompare(b.id));
    result.set(ecosystem, {
      zip: zipSync(entries, { level: 6 }),
      csv: newestFirst.map((r) => `${r.modified},${r.id}\n`).join(''),
      byId,
    });
  }
  return result;
}

function notFound(res: Response, what: string): void {
  res.status(404).type('text/plain').send(`${what} is not in this mirror\n`);
}

export function createOsvMirror(records: readonly MirrorRecord[] = DEMO_ADVISORIES): RequestHandler {
  for (const r of records) {
    if (!/^[A-Za-z0-9._-]+$/.test(r.id)) throw new Error(`OSV id ${JSON.stringify(r.id)} cannot be a file name`);
    if (Number.isNaN(Date.parse(r.modified))) throw new Error(`OSV record ${r.id}: modified is not a timestamp`);
  }
  const ecosystems = buildEcosystems(records);
  const router = express.Router();
  router.get('/:ecosystem/:file', (req, res) => {
    const { ecosystem, file } = req.params as { ecosystem: string; file: string };
    const files = ecosystems.get(ecosystem);
    if (!files) return notFound(res, `ecosystem ${ecosystem}`);
    if (file === 'all.zip') return void res.type('application/zip').send(Buffer.from(files.zip));
    if (file === 'modified_id.csv') return void res.type('text/csv').send(files.csv);
    const json = file.endsWith('.json') ? files.byId.get(file.slice(0, -'.json'.length)) : undefined;
    if (json === undefined) return notFound(res, `${ecosystem}/${file}`);
    return void res.type('application/json').send(json);
  });
  router.use((req, res) => notFound(res, req.path));
  return router;
}
