import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Router } from 'express';
import type { Config } from '../config.ts';
import { AuthRequirement, requireAuth, type AuthDeps } from './auth.ts';

export const DESCRIPTOR_PATH = '/atlassian-connect.json';

const TEMPLATE_FILE = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'atlassian-connect.json');

export type Descriptor = Record<string, unknown> & { key: string; baseUrl: string; vendor?: Record<string, unknown> };

/**
 * The repository's atlassian-connect.json is the template; only what differs per deployment
 * is filled in: `baseUrl` (every module URL resolves against it) and the app `key`.
 */
export function buildDescriptor(config: Pick<Config, 'baseUrl' | 'appKey'>, template: Descriptor = loadTemplate()): Descriptor {
  return {
    ...template,
    key: config.appKey,
    baseUrl: config.baseUrl,
    vendor: { ...template.vendor, url: config.baseUrl },
  };
}

export function loadTemplate(): Descriptor {
  return JSON.parse(readFileSync(TEMPLATE_FILE, 'utf8')) as Descriptor;
}

export function addDescriptorRoute(router: Router, deps: AuthDeps & { config: AuthDeps['config'] & Pick<Config, 'appKey'> }): void {
  // Built once: the template and the configuration do not change while the process runs.
  const body = JSON.stringify(buildDescriptor(deps.config), null, 2);
  router.get(DESCRIPTOR_PATH, requireAuth(AuthRequirement.None, deps), (_req, res) => {
    res.type('application/json').send(body);
  });
}
