import type { RepoConfigFiles } from '../../scan/repo-config/index.ts';
import type { FileScanPart } from '../../scan/scan-files.ts';
import type { BatchCounts, BatchFile } from './batch.ts';

/** One batch for a scan thread. `config` comes with the first batch of a root that thread sees. */
export interface BatchTask {
  id: number;
  root: number;
  config?: RepoConfigFiles;
  files: BatchFile[];
}

export type BatchReply = ({ id: number; part: FileScanPart } & BatchCounts) | { id: number; error: string };

/** What every scan thread starts with. The key travels as hex: a Buffer would arrive as a plain Uint8Array. */
export interface ThreadData {
  fingerprintKey: string | undefined;
}
