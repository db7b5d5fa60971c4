import { z } from 'zod';
import type { Actor, PullRequestAction, PullRequestEvent, PushEvent, RepositoryRef } from '../core/events.ts';
import { sha256Hex } from '../crypto.ts';

/**
 * Forge's Bitbucket product events (`avi:bitbucket:*`) normalised into the same domain events
 * as Connect's webhooks. What differs from Connect's payloads (../shared/BITBUCKET.md, Forge;
 * examples in ../shared/reference/payloads/forge/): the body is the event itself, or
 * `{payload: event}` on retries; repositories and workspaces come as `{uuid, slug}` / `{uuid}`
 * with no names or links; PR events carry 12-character hashes; there is no event id.
 *
 * Without a workspace slug, a repository is named `{workspace-uuid}/{repo-uuid}`: Bitbucket's
 * REST API accepts UUIDs in braces for both path segments, and results are keyed by UUID anyway.
 */

export const FORGE_PULL_REQUEST_ACTIONS = {
  'avi:bitbucket:created:pullrequest': 'opened',
  'avi:bitbucket:updated:pullrequest': 'updated',
  'avi:bitbucket:fulfilled:pullrequest': 'merged',
  'avi:bitbucket:rejected:pullrequest': 'declined',
} as const satisfies Record<string, PullRequestAction>;

export const FORGE_PUSH_EVENT = 'avi:bitbucket:push:repository';

/** Every Bitbucket event the manifest subscribes the events endpoint to. */
export const FORGE_BITBUCKET_EVENTS: readonly string[] = [...Object.keys(FORGE_PULL_REQUEST_ACTIONS), FORGE_PUSH_EVENT];

const UUID = /^\{?[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\}?$/;
/** `{uuid}` whether or not it came with braces, lower case. */
const bracedUuid = z
  .string()
  .regex(UUID, 'expected a UUID')
  .transform((u) => `{${u.replace(/^\{|\}$/g, '').toLowerCase()}}`);
const hash = z.string().regex(/^[0-9a-f]{7,40}$/, 'expected a commit hash');
const name = z.string().min(1).max(1024);

const actor = z
  .object({ accountId: z.string().max(256).nullish(), uuid: z.string().max(64).nullish(), displayName: z.string().max(1024).nullish() })
  .nullish();

const common = {
  eventType: z.string(),
  selfGenerated: z.boolean().optional(),
  actor,
  repository: z.object({ uuid: bracedUuid, slug: name }),
  workspace: z.object({ uuid: bracedUuid }),
};

const pullRequestBody = z.object({
  ...common,
  pullrequest: z.object({
    id: z.number().int().positive(),
    state: z.enum(['OPEN', 'MERGED', 'DECLINED', 'SUPERSEDED']),
    // Forge's title is `{truncated, value}`; a plain string is accepted too.
    title: z.union([z.string(), z.object({ value: z.string() })]).optional(),
    draft: z.boolean().optional(),
    source: z.object({ branch: name, commit: z.object({ hash }).nullish() }),
    destination: z.object({ branch: name, commit: z.object({ hash }).nullish() }),
    mergeCommit: z.object({ hash }).nullish(),
    author: actor,
  }),
});

const pushBody = z.object({
  ...common,
  push: z.object({
    ref: name,
    after: hash.nullish(),
    created: z.boolean().optional(),
    closed: z.boolean().optional(),
    forced: z.boolean().optional(),
    truncated: z.boolean().optional(),
    commits: z.array(z.object({ hash })).max(10_000).optional(),
    // An annotated tag carries its own message and author; a branch push does not.
    message: z.unknown().optional(),
    author: z.unknown().optional(),
  }),
});

export type ForgeEventResult =
  | { kind: 'event'; event: PushEvent | PullRequestEvent; workspaceUuid: string }
  | { kind: 'ignored'; why: string; workspaceUuid: string | undefined }
  | { kind: 'invalid'; problems: string[] };

/** The event inside a body: itself, or `payload` when Forge wraps a retry. */
export function unwrapForgeEvent(body: Record<string, unknown>): unknown {
  const inner = body.payload;
  return typeof body.eventType !== 'string' && typeof inner === 'object' && inner !== null && !Array.isArray(inner) ? inner : body;
}

function toActor(a: z.infer<typeof actor>): Actor | null {
  if (!a) return null;
  return { accountId: a.accountId ?? null, uuid: a.uuid ?? null, displayName: a.displayName ?? null };
}

function toRepository(repository: { uuid: string; slug: string }, workspaceUuid: string): RepositoryRef {
  return { uuid: repository.uuid, fullName: `${workspaceUuid}/${repository.uuid}`, workspace: workspaceUuid, name: repository.slug, isPrivate: null };
}

function problemsOf(error: z.ZodError): string[] {
  return error.issues.slice(0, 10).map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`);
}

/**
 * A key that is the same for every delivery of one event and differs between events: Forge
 * sends no event id, and a retry may wrap the event differently, so the key is derived from
 * the event's content (canonical JSON of the unwrapped event), not from the bytes received.
 */
export function forgeDeliveryId(event: unknown): string {
  return `forge:${sha256Hex(canonicalJson(event))}`;
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value)
      // Retry bookkeeping is not part of the event.
      .filter(([k]) => k !== 'retryContext')
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export function parseForgeEvent(event: unknown): ForgeEventResult {
  const eventType = typeof event === 'object' && event !== null ? (event as { eventType?: unknown }).eventType : undefined;
  if (typeof eventType !== 'string') return { kind: 'invalid', problems: ['eventType: expected the Forge event type'] };
  const deliveryId = forgeDeliveryId(event);
  if (eventType in FORGE_PULL_REQUEST_ACTIONS) {
    const parsed = pullRequestBody.safeParse(event);
    if (!parsed.success) return { kind: 'invalid', problems: problemsOf(parsed.error) };
    const body = parsed.data;
    const workspaceUuid = body.workspace.uuid;
    if (body.selfGenerated) return { kind: 'ignored', why: 'generated by this app', workspaceUuid };
    const pr = body.pullrequest;
    const repository = toRepository(body.repository, workspaceUuid);
    const title = typeof pr.title === 'string' ? pr.title : (pr.title?.value ?? '');
    return {
      kind: 'event',
      workspaceUuid,
      event: {
        type: 'pull_request',
        action: FORGE_PULL_REQUEST_ACTIONS[eventType as keyof typeof FORGE_PULL_REQUEST_ACTIONS],
        deliveryId,
        sourceEvent: eventType,
        repository,
        actor: toActor(body.actor),
        pullRequest: {
          id: pr.id,
          title,
          state: pr.state,
          draft: pr.draft ?? false,
          // Forge names no repository per side; the workflows read forks from the pull request itself.
          source: { branch: pr.source.branch, commit: pr.source.commit?.hash ?? null, repository: null },
          destination: { branch: pr.destination.branch, commit: pr.destination.commit?.hash ?? null, repository },
          mergeCommit: pr.mergeCommit?.hash ?? null,
          author: toActor(pr.author),
        },
      },
    };
  }
  if (eventType === FORGE_PUSH_EVENT) {
    const parsed = pushBody.safeParse(event);
    if (!parsed.success) return { kind: 'invalid', problems: problemsOf(parsed.error) };
    const body = parsed.data;
    const workspaceUuid = body.workspace.uuid;
    if (body.selfGenerated) return { kind: 'ignored', why: 'generated by this app', workspaceUuid };
    const push = body.push;
    const isTag = push.message !== undefined || push.author !== undefined;
    return {
      kind: 'event',
      workspaceUuid,
      event: {
        type: 'push',
        deliveryId,
        sourceEvent: eventType,
        repository: toRepository(body.repository, workspaceUuid),
        actor: toActor(body.actor),
        changes: [
          {
            kind: isTag ? 'tag' : 'branch',
            name: push.ref,
            // Forge does not say where the ref was before: the head commit's own change is scanned.
            before: null,
            after: push.closed ? null : (push.after ?? null),
            forced: push.forced ?? false,
            commits: (push.commits ?? []).map((c) => c.hash),
            truncated: push.truncated ?? false,
          },
        ],
      },
    };
  }
  return { kind: 'ignored', why: `event ${eventType.slice(0, 100)} is not handled`, workspaceUuid: undefined };
}
