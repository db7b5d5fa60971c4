import { z } from 'zod';

/**
 * The parts of a Connect descriptor Bitbucket acts on. Everything the simulator sends to the
 * app is routed by what the descriptor declares, never by knowledge of the app's code.
 */

const KNOWN_SCOPES = [
  'account', 'account:write', 'email', 'repository', 'repository:write', 'repository:admin', 'repository:delete',
  'project', 'project:admin', 'team', 'team:write', 'pullrequest', 'pullrequest:write', 'issue', 'issue:write',
  'snippet', 'snippet:write', 'webhook', 'wiki', 'pipeline', 'pipeline:write', 'pipeline:variable', 'runner',
  'runner:write', 'test', 'test:write',
] as const;

export const WEB_PANEL_LOCATIONS = {
  repository: 'org.bitbucket.repository.overview.informationPanel',
  pullRequest: 'org.bitbucket.pullrequest.overview.informationPanel',
} as const;

const descriptorSchema = z.object({
  key: z.string().min(1),
  name: z.string().optional(),
  baseUrl: z.string().url(),
  authentication: z.object({ type: z.literal('jwt') }),
  lifecycle: z.object({ installed: z.string().min(1), uninstalled: z.string().min(1).optional() }).passthrough(),
  scopes: z.array(z.enum(KNOWN_SCOPES, { error: (issue) => `unknown scope ${JSON.stringify(issue.input)}: Bitbucket fails the install` })).optional(),
  contexts: z.array(z.string()).optional(),
  modules: z
    .object({
      webhooks: z.array(z.object({ event: z.string().min(1), url: z.string().min(1) })).optional(),
      webPanels: z
        .array(
          z.object({
            key: z.string().regex(/^[a-zA-Z0-9-]+$/, 'web panel keys are letters, digits and dashes'),
            name: z.object({ value: z.string() }),
            location: z.string(),
            url: z.string().min(1),
          }).passthrough(),
        )
        .optional(),
    })
    .passthrough()
    .default({}),
}).passthrough();

export type Descriptor = z.infer<typeof descriptorSchema>;

/** Which scope each webhook event family needs; a missing one fails the install on Bitbucket. */
function scopeForEvent(event: string): string | undefined {
  if (event.startsWith('pullrequest:')) return 'pullrequest';
  if (event.startsWith('repo:')) return 'repository';
  if (event.startsWith('issue:')) return 'issue';
  return undefined;
}

export async function fetchDescriptor(appBaseUrl: string, fetchImpl: typeof fetch = fetch): Promise<Descriptor> {
  const url = `${appBaseUrl.replace(/\/+$/, '')}/atlassian-connect.json`;
  const res = await fetchImpl(url);
  if (!res.ok) throw new Error(`GET ${url} answered ${res.status}; is the app running?`);
  return parseDescriptor(await res.json());
}

export function parseDescriptor(json: unknown): Descriptor {
  const parsed = descriptorSchema.safeParse(json);
  if (!parsed.success) {
    throw new Error(`the app descriptor would fail a Bitbucket install: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  const descriptor = parsed.data;
  if (descriptor.scopes) {
    for (const hook of descriptor.modules.webhooks ?? []) {
      const needed = scopeForEvent(hook.event);
      if (needed && !descriptor.scopes.some((s) => s === needed || s === `${needed}:write` || (needed === 'repository' && s.startsWith('pullrequest')))) {
        throw new Error(`webhook ${hook.event} needs scope "${needed}", which the descriptor does not request: Bitbucket fails the install`);
      }
    }
  }
  return descriptor;
}

/** Absolute URL of a module path, resolved against the descriptor's baseUrl. */
export function moduleUrl(descriptor: Descriptor, path: string): string {
  if (/^https?:\/\//.test(path)) return path;
  return `${descriptor.baseUrl.replace(/\/+$/, '')}${path.startsWith('/') ? '' : '/'}${path}`;
}

export function webhookUrls(descriptor: Descriptor, event: string): string[] {
  return (descriptor.modules.webhooks ?? []).filter((h) => h.event === event || h.event === '*').map((h) => moduleUrl(descriptor, h.url));
}
