// The CLI's lockfile thread: parses one dependency file at a time (see bounded-parser.ts).
import { parentPort } from 'node:worker_threads';
import { ParseError, parseLockfile } from '../../scan/deps/index.ts';
import type { ParseReply, ParseRequest } from './protocol.ts';

const port = parentPort!;

port.on('message', ({ id, path, content }: ParseRequest) => {
  const notices: string[] = [];
  let reply: ParseReply;
  try {
    reply = { id, result: { packages: parseLockfile(path, content, (message) => notices.push(message)), notices } };
  } catch (error) {
    reply = error instanceof ParseError ? { id, result: { reason: error.reason } } : { id, failure: error instanceof Error ? (error.stack ?? error.message) : String(error) };
  }
  port.postMessage(reply);
});
