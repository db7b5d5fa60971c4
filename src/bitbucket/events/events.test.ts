import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { PullRequestEvent, PushEvent } from '../../core/events.ts';
import { HANDLED_CLOUD_EVENTS, parseCloudEvent } from './index.ts';

const CLOUD = path.resolve(import.meta.dirname, '../../../test/fixtures/bitbucket-payloads/cloud');

/**
 * Fixtures that legitimately fail validation, with the reason. jenkins-push-pr's push was
 * anonymised by hand: its `old.target.hash` is 42 non-hex characters, which the schema
 * rejects on purpose (hashes become URL path segments in REST calls).
 */
const EXPECTED_INVALID: Record<string, string> = {
  'repo-push/jenkins-push-pr.json': 'push.changes.0.old.target.hash',
};

interface Fixture {
  file: string;
  eventKey: string;
  body: unknown;
}

/** Every Cloud fixture, unwrapped: captured `{headers, payload}` and Connect `{event, data}`. */
function fixtures(): Fixture[] {
  return readdirSync(CLOUD).flatMap((dir) =>
    readdirSync(path.join(CLOUD, dir)).map((name) => {
      let body = JSON.parse(readFileSync(path.join(CLOUD, dir, name), 'utf8')) as Record<string, unknown>;
      if (body.payload) body = body.payload as Record<string, unknown>;
      if (body.data) body = body.data as Record<string, unknown>;
      return { file: `${dir}/${name}`, eventKey: dir.replace('-', ':'), body };
    }),
  );
}

const all = fixtures();

describe('every Bitbucket Cloud fixture', () => {
  it('covers every handled event at least twice', () => {
    for (const key of HANDLED_CLOUD_EVENTS) expect(all.filter((f) => f.eventKey === key).length).toBeGreaterThanOrEqual(2);
  });

  for (const f of all) {
    const handled = HANDLED_CLOUD_EVENTS.includes(f.eventKey);
    const invalidAt = EXPECTED_INVALID[f.file];
    it(`${f.file}: ${!handled ? 'is unhandled' : invalidAt ? `fails at ${invalidAt}` : 'parses and normalises'}`, () => {
      const result = parseCloudEvent(f.eventKey, f.body, 'delivery-1');
      if (!handled) {
        expect(result.kind).toBe('unhandled');
      } else if (invalidAt) {
        expect(result.kind).toBe('invalid');
        if (result.kind === 'invalid') expect(result.problems.join('\n')).toContain(invalidAt);
      } else {
        expect(result.kind === 'invalid' ? result.problems : result.kind).toBe('event');
        if (result.kind !== 'event') return;
        expect(result.event.deliveryId).toBe('delivery-1');
        expect(result.event.sourceEvent).toBe(f.eventKey);
        expect(result.event.repository.uuid).toMatch(/^\{.+\}$/);
        expect(result.event.repository.fullName).toMatch(/^[^/]+\/[^/]+$/);
        expect(result.event.repository.workspace).not.toBe('');
        // Domain events are plain JSON: they are stored as job payloads.
        expect(JSON.parse(JSON.stringify(result.event))).toEqual(result.event);
      }
    });
  }
});

function event<T>(file: string, eventKey: string): T {
  const f = all.find((x) => x.file === file);
  if (!f) throw new Error(`no fixture ${file}`);
  const result = parseCloudEvent(eventKey, f.body, 'd');
  if (result.kind !== 'event') throw new Error(`${file} did not parse: ${JSON.stringify(result)}`);
  return result.event as T;
}

describe('push normalisation', () => {
  it('a new branch has no "before"', () => {
    const e = event<PushEvent>('repo-push/drone-go-scm--push_branch_create.json', 'repo:push');
    expect(e.changes).toHaveLength(1);
    expect(e.changes[0]).toMatchObject({ kind: 'branch', name: 'develop', before: null, forced: false });
    expect(e.changes[0]?.after).toMatch(/^[0-9a-f]{40}$/);
    expect(e.changes[0]?.commits).toHaveLength(2);
  });

  it('a deleted tag has no "after"', () => {
    const e = event<PushEvent>('repo-push/drone-go-scm--push_tag_delete.json', 'repo:push');
    expect(e.changes[0]).toMatchObject({ kind: 'tag', after: null });
  });

  it('keeps every change of a multi-change push and flags truncation', () => {
    const e = event<PushEvent>('repo-push/jenkins-branch-source--multipleChangesPayload.json', 'repo:push');
    expect(e.changes.map((c) => [c.kind, c.name, c.truncated])).toEqual([
      ['branch', 'main', false],
      ['branch', 'manchu', true],
      ['tag', 'v0.1', false],
    ]);
  });

  it('a PR-merge push may list no commits', () => {
    const e = event<PushEvent>('repo-push/toolchain-connect--repo_push_pr_merge.json', 'repo:push');
    expect(e.changes[0]?.commits).toEqual([]);
    expect(e.changes[0]?.after).toMatch(/^[0-9a-f]{40}$/);
  });

  it('derives the workspace from full_name when the payload predates `workspace`', () => {
    const e = event<PushEvent>('repo-push/drone-go-scm--push.json', 'repo:push');
    expect(e.repository.workspace).toBe('brydzewski');
    expect(e.actor?.displayName).toBeTruthy();
  });

  it('rejects a hash that could smuggle a path into a REST call', () => {
    const f = all.find((x) => x.file === 'repo-push/drone-go-scm--push.json')!;
    const body = JSON.parse(JSON.stringify(f.body)) as { push: { changes: { new: { target: { hash: string } } }[] } };
    body.push.changes[0]!.new.target.hash = '../../../admin';
    expect(parseCloudEvent('repo:push', body, 'd').kind).toBe('invalid');
  });
});

describe('pull request normalisation', () => {
  it('maps event keys to actions', () => {
    expect(event<PullRequestEvent>('pullrequest-created/froggit-go.json', 'pullrequest:created').action).toBe('opened');
    expect(event<PullRequestEvent>('pullrequest-updated/froggit-go.json', 'pullrequest:updated').action).toBe('updated');
    expect(event<PullRequestEvent>('pullrequest-fulfilled/froggit-go.json', 'pullrequest:fulfilled').action).toBe('merged');
    expect(event<PullRequestEvent>('pullrequest-rejected/froggit-go.json', 'pullrequest:rejected').action).toBe('declined');
  });

  it('keeps the 12-character hashes as sent and the merge commit', () => {
    const e = event<PullRequestEvent>('pullrequest-fulfilled/drone-go-scm.json', 'pullrequest:fulfilled');
    expect(e.pullRequest.source.commit).toMatch(/^[0-9a-f]{12}$/);
    expect(e.pullRequest.mergeCommit).toBe('4f8f6de9d0ff');
    expect(e.pullRequest.state).toBe('MERGED');
  });

  it('tells a fork source repository from the destination', () => {
    const e = event<PullRequestEvent>('pullrequest-created/jenkins-branch-source--createPayloadFork.json', 'pullrequest:created');
    expect(e.repository.fullName).toBe('cloudbeers/temp');
    expect(e.pullRequest.source.repository?.fullName).toBe('stephenc/temp-fork');
  });

  it('reads draft from new payloads and defaults it in old ones', () => {
    expect(event<PullRequestEvent>('pullrequest-updated/jenkins-branch-source.json', 'pullrequest:updated').pullRequest.draft).toBe(false);
    expect(event<PullRequestEvent>('pullrequest-created/atlantis.json', 'pullrequest:created').pullRequest.draft).toBe(false);
  });

  it('rejects a payload without a pull request', () => {
    const result = parseCloudEvent('pullrequest:created', { repository: {} }, 'd');
    expect(result.kind).toBe('invalid');
  });
});
