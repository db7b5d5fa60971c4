import { describe, expect, it } from 'vitest';
import { DiagnosticsRecorder, failureKind, MAX_EVENT_TYPES } from './recorder.ts';

describe('DiagnosticsRecorder', () => {
  it('files statuses an admin can act on by themselves and the rest by class', () => {
    expect([200, 302, 401, 403, 404, 429, 400, 409, 500, 503, null].map(failureKind)).toEqual([null, null, '401', '403', '404', '429', '4xx', '4xx', '5xx', '5xx', 'network']);
  });

  it('stays bounded: event types per installation, and installations (least recently touched forgotten first)', () => {
    const recorder = new DiagnosticsRecorder({ maxTenants: 3 });
    for (let i = 0; i < MAX_EVENT_TYPES + 50; i++) recorder.delivery('a', `event:${i}`);
    recorder.delivery('a', 'event:0');
    const a = recorder.tenant('a');
    expect(a.deliveries).toHaveLength(MAX_EVENT_TYPES);
    expect(a.deliveries.find((d) => d.event === 'event:0')?.count).toBe(2);

    recorder.delivery('b', 'repo:push');
    recorder.delivery('c', 'repo:push');
    recorder.delivery('a', 'repo:push');
    recorder.delivery('d', 'repo:push');
    expect(recorder.tenants().sort()).toEqual(['a', 'c', 'd']);
    expect(recorder.tenant('b').deliveries).toEqual([]);
  });

  it('keeps the newest error per kind, cut to its path and bounded in length', () => {
    const recorder = new DiagnosticsRecorder();
    recorder.call('a', { method: 'GET', url: 'https://api.example/2.0/one?secret=1', status: 404, error: null });
    recorder.call('a', { method: 'PUT', url: `https://api.example/2.0/${'x'.repeat(1_000)}`, status: 404, error: null });
    recorder.call('a', { method: 'GET', url: 'not a url', status: null, error: 'AbortError: timed out' });
    const failures = recorder.tenant('a').callFailures;
    expect(failures[0]).toMatchObject({ kind: '404', count: 2 });
    expect(failures[0]!.lastError.length).toBeLessThanOrEqual(300);
    expect(failures[0]!.lastError.startsWith('PUT /2.0/xxx')).toBe(true);
    expect(failures[1]!.lastError).toBe('GET (unparsable URL): AbortError: timed out');
  });
});

describe('DiagnosticsRecorder snapshots', () => {
  it('restores what it saved, and skips entries of the wrong shape', () => {
    const recorder = new DiagnosticsRecorder({ now: () => new Date('2026-03-01T12:00:00Z') });
    recorder.delivery('a', 'repo:push');
    recorder.refused('a', 'bad_jwt', 'signature');
    recorder.call('a', { method: 'GET', url: 'https://api.example/2.0/x', status: 429, error: null });
    const saved = JSON.parse(JSON.stringify(recorder.snapshot())) as { tenants: Record<string, unknown>[] };
    saved.tenants.push({ clientKey: 'b', since: 'x', calls: 1, deliveries: [{ event: 'e', count: 'many', lastAt: 'x' }], callFailures: [{ kind: 'teapot', count: 1, lastAt: 'x', lastError: 'x' }] });

    const again = new DiagnosticsRecorder();
    again.restore(saved);
    expect(again.tenant('a')).toEqual(recorder.tenant('a'));
    expect(again.tenant('b')).toMatchObject({ deliveries: [], callFailures: [], calls: 1 });
    again.restore(null);
    again.restore({ tenants: 'no' });
    expect(again.tenants()).toEqual(['a', 'b']);
  });
});
