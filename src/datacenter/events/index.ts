import type { z } from 'zod';
import { parsePullRequest, pullRequestSchema, PULL_REQUEST_EVENTS } from './pull-request.ts';
import { parseRefsChanged, refsChangedSchema } from './refs-changed.ts';
import type { Envelope, ParseResult } from './types.ts';

export type { Envelope, ParseResult } from './types.ts';

type Parser = (body: unknown, envelope: Envelope) => ParseResult;

/** Binds a schema to its normaliser; the normaliser's input type is inferred from the schema. */
function parser<S extends z.ZodType>(schema: S, normalise: (payload: z.infer<S>, envelope: Envelope) => ParseResult): Parser {
  return (body, envelope) => {
    const parsed = schema.safeParse(body);
    if (parsed.success) return normalise(parsed.data, envelope);
    return { kind: 'invalid', problems: parsed.error.issues.slice(0, 10).map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`) };
  };
}

const pullRequestParser = parser(pullRequestSchema, parsePullRequest);

/** Event key -> parser: one file per event family, schema beside normaliser. */
const DATACENTER_EVENT_PARSERS: ReadonlyMap<string, Parser> = new Map<string, Parser>([
  ['repo:refs_changed', parser(refsChangedSchema, parseRefsChanged)],
  ...PULL_REQUEST_EVENTS.map((key): [string, Parser] => [key, pullRequestParser]),
]);

/** Event keys the app acts on; installed webhooks subscribe to exactly these (a test checks). */
export const HANDLED_DATACENTER_EVENTS: readonly string[] = [...DATACENTER_EVENT_PARSERS.keys()];

/** Data Center's "Test connection" button. */
export const PING_EVENT = 'diagnostics:ping';

export function parseDatacenterEvent(body: unknown, envelope: Envelope): ParseResult {
  const parse = DATACENTER_EVENT_PARSERS.get(envelope.sourceEvent);
  return parse ? parse(body, envelope) : { kind: 'unhandled' };
}
