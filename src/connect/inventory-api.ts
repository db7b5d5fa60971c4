import express, { type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import { EXPORT_FORMATS, RowWriter } from '../core/inventory/export.ts';
import { MappingError, MAX_MAPPING_BYTES, parseMapping, type Mapping } from '../core/inventory/mapping.ts';
import { ENTITY_TYPES, INVENTORY_SCHEMA_VERSION, type EntityType } from '../core/inventory/model.ts';
import { decodeCursor, encodeCursor, inventoryEntities, type InventoryFilter, type Position } from '../core/inventory/source.ts';
import { HttpError, parseRequest } from '../http/errors.ts';
import type { Logger } from '../log.ts';
import { buildSbom } from '../scan/sbom/cyclonedx.ts';
import type { PackageRef } from '../scan/types.ts';
import { SEVERITIES } from '../scan/types.ts';
import type { ResultsStore } from '../store/results-types.ts';
import { callerOf, type ApiCaller } from '../ui/api-auth.ts';
import type { PermissionChecker } from '../ui/permissions.ts';

/**
 * The asset inventory under /api (CONTRACT.md "Coverage and inventory", docs/inventory.md):
 * pages of entities with an opaque cursor, a streamed export (JSON Lines or CSV, optionally
 * through the installation's mapping), CycloneDX SBOMs per repository or for the whole
 * workspace, and the stored export mapping. Any caller of the installation may read; the
 * mapping is changed by an API token, a Connect JWT or a workspace admin's page session,
 * since it reshapes every export of the installation.
 */
export const INVENTORY_API_PATHS = {
  inventory: '/api/inventory',
  export: '/api/inventory/export',
  sbom: '/api/inventory/sbom',
  mapping: '/api/inventory/mapping',
} as const;

export interface InventoryApiDeps {
  results: ResultsStore;
  permissions: PermissionChecker;
  now: () => Date;
  logger?: Logger;
}

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1000;
const SBOM_CONTENT_TYPE = 'application/vnd.cyclonedx+json; version=1.6';

const filterQuery = z
  .object({
    type: z.string().optional(),
    repository: z.string().min(1).max(300).optional(),
    project: z.string().min(1).max(100).optional(),
    severity: z.enum(SEVERITIES).optional(),
    state: z.enum(['open', 'triaged', 'fixed']).optional(),
    newAdvisory: z.enum(['true', 'false']).optional(),
    inHistory: z.enum(['true', 'false']).optional(),
  })
  .passthrough();

export function addInventoryApi(router: Router, requireCaller: express.RequestHandler, deps: InventoryApiDeps): void {
  router.get(INVENTORY_API_PATHS.inventory, requireCaller, async (req, res) => {
    const { clientKey } = callerOf(res);
    const filter = filterOf(req);
    const query = parseRequest(z.object({ limit: z.coerce.number().int().min(1).max(MAX_LIMIT).optional(), cursor: z.string().max(4000).optional() }).passthrough(), req.query);
    let after: Position | undefined;
    if (query.cursor !== undefined) {
      after = decodeCursor(query.cursor);
      if (!after) throw new HttpError(400, 'invalid_cursor', 'cursor is not one this API handed out; start again without it');
    }
    const limit = query.limit ?? DEFAULT_LIMIT;
    const items = [];
    let last: Position | undefined;
    let more = false;
    for await (const { position, entity } of inventoryEntities(deps.results, clientKey, filter, after)) {
      if (items.length === limit) {
        more = true;
        break;
      }
      items.push(entity);
      last = position;
    }
    res.json({ schemaVersion: INVENTORY_SCHEMA_VERSION, items, nextCursor: more && last ? encodeCursor(last) : null });
  });

  router.get(INVENTORY_API_PATHS.export, requireCaller, async (req, res) => {
    const { clientKey } = callerOf(res);
    const filter = filterOf(req);
    const { format, mapping: use } = parseRequest(
      z.object({ format: z.enum(EXPORT_FORMATS, { message: 'format is jsonl or csv' }).default('jsonl'), mapping: z.enum(['stored', 'none']).default('stored') }).passthrough(),
      req.query,
    );
    const stored = use === 'stored' ? await deps.results.getExportMapping(clientKey) : undefined;
    const mapping: Mapping | null = stored ? parseMapping(stored.source) : null;
    const types = mapping?.types ? (filter.types ?? mapping.types).filter((t) => mapping.types!.includes(t)) : filter.types;
    if (format === 'csv' && !mapping && types?.length !== 1) {
      throw new HttpError(400, 'one_type_for_csv', `a CSV export without a mapping takes one type: add type=${ENTITY_TYPES.join('|')}`);
    }
    const writer = new RowWriter(format, mapping, types?.[0]);
    const stamp = deps.now().toISOString().slice(0, 10);
    res.writeHead(200, {
      'Content-Type': format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8',
      'Content-Disposition': `attachment; filename="gatehouse-inventory-${stamp}.${format}"`,
      'Cache-Control': 'no-store',
    });
    try {
      await write(res, writer.header());
      for await (const { entity } of inventoryEntities(deps.results, clientKey, { ...filter, ...(types ? { types } : {}) })) {
        if (res.destroyed) return;
        const line = writer.line(entity);
        if (line !== '') await write(res, line);
      }
      res.end();
    } catch (err) {
      // The status is sent: a cut-off body is how the client learns the export is incomplete.
      deps.logger?.error({ err }, 'inventory export failed midway');
      res.destroy();
    }
  });

  router.get(INVENTORY_API_PATHS.sbom, requireCaller, async (req, res) => {
    const caller = callerOf(res);
    const { repository } = parseRequest(z.object({ repository: z.string().min(1).max(300).optional() }).passthrough(), req.query);
    const repos = (await deps.results.listRepositories(caller.clientKey)).filter((r) => r.deletedAt === null && r.mainBranch !== null);
    if (repository !== undefined) {
      const repo = repos.find((r) => r.uuid === repository || r.fullName === repository);
      const inventory = repo && (await deps.results.getInventory(caller.clientKey, repo.uuid, repo.mainBranch!));
      if (!repo || !inventory) throw new HttpError(404, 'no_inventory', 'No default-branch inventory for that repository (not discovered, empty, or not scanned yet)');
      res.type(SBOM_CONTENT_TYPE).set('Content-Disposition', `attachment; filename="${repo.fullName.replace(/[^A-Za-z0-9._-]+/g, '_')}.cdx.json"`).send(inventory.sbom);
      return;
    }
    const packages: PackageRef[] = [];
    for (const repo of repos.sort((a, b) => a.fullName.localeCompare(b.fullName))) {
      const inventory = await deps.results.getInventory(caller.clientKey, repo.uuid, repo.mainBranch!);
      // One lockfile path per repository, so the SBOM says which repositories hold a package.
      for (const p of inventory?.packages ?? []) packages.push({ ...p, path: `${repo.fullName}/${p.path}`, dependsOn: [] });
    }
    const sbom = await buildSbom(packages, { name: workspaceOf(caller), version: deps.now().toISOString().slice(0, 10), timestamp: deps.now() });
    res.type(SBOM_CONTENT_TYPE).set('Content-Disposition', 'attachment; filename="workspace.cdx.json"').send(sbom);
  });

  router.get(INVENTORY_API_PATHS.mapping, requireCaller, async (_req, res) => {
    const stored = await deps.results.getExportMapping(callerOf(res).clientKey);
    if (!stored) throw new HttpError(404, 'no_mapping', 'The installation has no export mapping; exports carry the entities as documented');
    res.json({ mapping: stored.source, updatedBy: stored.updatedBy, updatedAt: stored.updatedAt });
  });

  const text = express.text({ limit: MAX_MAPPING_BYTES, type: () => true });
  async function requireMappingWriter(caller: ApiCaller): Promise<void> {
    if (caller.via !== 'page') return;
    const p = caller.installation.principal;
    const workspace = p?.slug ?? p?.username ?? p?.uuid;
    let admin = false;
    try {
      admin = Boolean(caller.user && workspace && (await deps.permissions.isWorkspaceAdmin(caller.clientKey, workspace, caller.user, { fresh: true })));
    } catch {
      throw new HttpError(503, 'bitbucket_unavailable', 'Bitbucket could not be asked whether you are a workspace admin; try again in a moment');
    }
    if (!admin) throw new HttpError(403, 'not_admin', 'Only workspace admins can change the export mapping');
  }

  router.put(INVENTORY_API_PATHS.mapping, requireCaller, text, async (req, res) => {
    const caller = callerOf(res);
    await requireMappingWriter(caller);
    const source = typeof req.body === 'string' ? req.body : '';
    try {
      parseMapping(source);
    } catch (error) {
      if (!(error instanceof MappingError)) throw error;
      // The stored mapping stays as it was.
      res.status(400).json({ error: { code: 'invalid_mapping', message: `The mapping was not saved (the previous one stays): ${error.message}`, line: error.line, column: error.column } });
      return;
    }
    const record = { clientKey: caller.clientKey, source, updatedBy: caller.name, updatedAt: deps.now().toISOString() };
    await deps.results.putExportMapping(caller.clientKey, record);
    res.json({ mapping: source, updatedBy: record.updatedBy, updatedAt: record.updatedAt });
  });

  router.delete(INVENTORY_API_PATHS.mapping, requireCaller, async (_req, res) => {
    await requireMappingWriter(callerOf(res));
    await deps.results.putExportMapping(callerOf(res).clientKey, null);
    res.status(204).end();
  });
}

function filterOf(req: Request): InventoryFilter {
  const q = parseRequest(filterQuery, req.query);
  const filter: InventoryFilter = {};
  if (q.type !== undefined) {
    const types = q.type.split(',');
    const unknown = types.filter((t) => !(ENTITY_TYPES as readonly string[]).includes(t));
    if (unknown.length > 0) throw new HttpError(400, 'invalid_request', `type: unknown ${unknown.join(', ')}; expected ${ENTITY_TYPES.join(', ')} (comma-separated)`);
    filter.types = types as EntityType[];
  }
  if (q.repository !== undefined) filter.repository = q.repository;
  if (q.project !== undefined) filter.project = q.project;
  if (q.severity !== undefined) filter.severity = q.severity;
  if (q.state !== undefined) filter.state = q.state;
  if (q.newAdvisory !== undefined) filter.newAdvisory = q.newAdvisory === 'true';
  if (q.inHistory !== undefined) filter.inHistory = q.inHistory === 'true';
  return filter;
}

/** Waits for the socket to take more when it is full (or the client to go away), leaving no listener behind. */
async function write(res: Response, chunk: string): Promise<void> {
  if (chunk === '' || res.write(chunk)) return;
  await new Promise<void>((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

function workspaceOf(caller: ApiCaller): string {
  const p = caller.installation.principal;
  return p?.slug ?? p?.username ?? p?.uuid ?? 'workspace';
}
