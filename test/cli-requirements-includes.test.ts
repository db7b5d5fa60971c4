import { rmSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, tempDir, writeTree } from './fixtures/cli/harness.ts';

// `gatehouse scan DIR` reads the files a requirements file names (-r, -c) from the tree,
// whatever their names, and nothing outside it: not through `..`, nor through a link.

let root: string;
let outside: string;

beforeAll(() => {
  root = tempDir();
  outside = tempDir();
  writeTree(outside, { 'pins.txt': 'requests==0.0.1\nleaked==6.6.6\n' });
  writeTree(root, {
    'app/requirements.txt': '-r common/base.in\n-c constraints.txt\n-c linked.txt\n-r ../../escape.txt\nrequests\n',
    'app/common/base.in': 'urllib3\nsix==1.16.0\n',
    'app/constraints.txt': 'urllib3==1.26.0\n',
  });
  symlinkSync(path.join(outside, 'pins.txt'), path.join(root, 'app/linked.txt'));
});
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
  rmSync(outside, { recursive: true, force: true });
});

describe('gatehouse scan: requirements includes', { timeout: 60_000 }, () => {
  it('follows -r and -c inside the scanned tree only', async () => {
    const result = await run(['scan', 'app', '--format', 'cyclonedx'], { cwd: root, env: { DATA_DIR: path.join(root, 'no-data') } });
    const bom = JSON.parse(result.stdout) as { components: { purl: string }[] };
    expect(bom.components.map((c) => c.purl).sort()).toEqual(['pkg:pypi/six@1.16.0', 'pkg:pypi/urllib3@1.26.0']);
    expect(result.code).toBe(0);
  });
});
