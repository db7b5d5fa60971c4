import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Simulator } from '../src/simulator/simulator.ts';
import { installedAppAuth, startInstalled } from './helpers/simulator-client.ts';
import type { FakeApp } from './simulator-fake-app.ts';

let fake: FakeApp;
let sim: Simulator;
let hash: string;

beforeAll(async () => {
  ({ fake, sim } = await startInstalled());
  const repo = await sim.createRepository('acme', 'tree', { files: { 'a.txt': 'a\n', 'dir/b.txt': 'bb\n', 'dir/sub/c.txt': 'ccc\n', 'z.txt': 'z\n' } });
  hash = (await repo.git.branchHead('main'))!;
});

afterAll(async () => {
  await sim?.stop();
  await fake?.stop();
});

interface Listing {
  page: number;
  size: number;
  next?: string;
  values: { path: string; type: string }[];
}

async function get(path: string): Promise<{ status: number; body: Listing & string }> {
  const url = `${sim.apiOrigin}/2.0${path}`;
  const res = await fetch(url, { headers: { Authorization: installedAppAuth(sim, 'GET', url) } });
  const text = await res.text();
  return { status: res.status, body: (res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text) as Listing & string };
}

describe('src directory listings, as the src/{commit}/{path} operation describes them', () => {
  it('lists the root with its trailing slash: commit_directory and commit_file entries, paginated', async () => {
    const first = await get(`/repositories/acme/tree/src/${hash}/?pagelen=2`);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ page: 1, pagelen: 2, size: 3, next: expect.stringContaining('page=2') });
    expect(first.body.values).toEqual([
      expect.objectContaining({ path: 'a.txt', type: 'commit_file', size: 2, commit: expect.objectContaining({ hash }) }),
      expect.objectContaining({ path: 'dir', type: 'commit_directory', links: expect.objectContaining({ self: { href: expect.stringMatching(/\/src\/[0-9a-f]{40}\/dir\/$/) } }) }),
    ]);
    const nextUrl = new URL(first.body.next!);
    const next = await get(nextUrl.pathname.replace(/^\/2\.0/, '') + nextUrl.search);
    expect(next.body.values.map((v) => v.path)).toEqual(['z.txt']);
  });

  it('lists a subdirectory with or without the slash, and max_depth walks breadth first', async () => {
    const dir = await get(`/repositories/acme/tree/src/${hash}/dir/`);
    expect(dir.body.values.map((v) => `${v.type}:${v.path}`)).toEqual(['commit_file:dir/b.txt', 'commit_directory:dir/sub']);
    expect((await get(`/repositories/acme/tree/src/${hash}/dir`)).body.size).toBe(2);
    const meta = (await get(`/repositories/acme/tree/src/${hash}/?format=meta`)).body as unknown as { type: string; links: { self: { href: string } } };
    expect(meta).toMatchObject({ type: 'commit_directory', links: { self: { href: expect.stringMatching(/\/src\/[0-9a-f]{40}\/$/) } } });
    const deep = await get(`/repositories/acme/tree/src/${hash}/?max_depth=3`);
    expect(deep.body.values.map((v) => v.path)).toEqual(['a.txt', 'dir', 'z.txt', 'dir/b.txt', 'dir/sub', 'dir/sub/c.txt']);
  });

  it('a file path with a trailing slash is not a directory; unknown paths answer 404; raw files still read', async () => {
    expect((await get(`/repositories/acme/tree/src/${hash}/a.txt/`)).status).toBe(404);
    expect((await get(`/repositories/acme/tree/src/${hash}/nope/`)).status).toBe(404);
    expect((await get(`/repositories/acme/tree/src/${hash}/dir/sub/c.txt`)).body).toBe('ccc\n');
    expect(sim.violations).toEqual([]);
  });
});
