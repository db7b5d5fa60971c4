import type { ParsedFile } from '../../scan/deps/file-set.ts';

/** One dependency file for the parsing thread. */
export interface ParseRequest {
  id: number;
  path: string;
  content: string;
}

export type ParseReply = { id: number; result: ParsedFile } | { id: number; failure: string };
