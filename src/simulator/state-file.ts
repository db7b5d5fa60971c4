import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';

/**
 * What `npm run simulate` leaves behind for `gatehouse simulate receive`: the simulator's
 * origins and the installations it made. The shared secrets in it are ones the simulator made
 * up for its own fake tenants (never a real Bitbucket tenant's); the file is still written
 * owner-only.
 */

export const STATE_FILE_NAME = 'simulator-state.json';

const stateSchema = z.object({
  appBaseUrl: z.string(),
  webOrigin: z.string(),
  apiOrigin: z.string(),
  installations: z.array(z.object({ workspace: z.string(), clientKey: z.string(), sharedSecret: z.string() })),
});

export type SimulatorState = z.infer<typeof stateSchema>;

export function stateFilePath(dataDir: string): string {
  return path.join(path.resolve(dataDir), STATE_FILE_NAME);
}

export async function writeState(dataDir: string, state: SimulatorState): Promise<string> {
  const file = stateFilePath(dataDir);
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp`;
  await writeFile(tmp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, file);
  return file;
}

/** The saved state, or undefined when there is none; throws with the file name when it is corrupt. */
export async function readState(dataDir: string): Promise<SimulatorState | undefined> {
  const file = stateFilePath(dataDir);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  const parsed = stateSchema.safeParse(JSON.parse(text));
  if (!parsed.success) throw new Error(`${file} is not a simulator state file`);
  return parsed.data;
}
