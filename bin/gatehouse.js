#!/usr/bin/env node
// Runs the compiled CLI from dist/. `npm ci` builds it; when a source is newer than the
// build (a pull or an edit since), it is rebuilt first, so the CLI never runs stale code.
import { ensureBuilt } from '../scripts/build.js';

await ensureBuilt();
const { main } = await import('../dist/cli/main.js');
process.exitCode = await main(process.argv.slice(2));
