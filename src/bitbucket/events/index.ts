import type { z } from 'zod';
import type { DomainEvent } from '../../core/events.ts';
import { normalisePullRequest, pullRequestSchema, PULL_REQUEST_ACTIONS, type PullRequestEventKey } from './pullrequest.ts';
import { normalisePush, pushSchema } from './push.ts';

export type ParseResult =
  | { kind: 'event'; event: DomainEvent }
  | { kind: 'unhandled' }
  | { kind: 'invalid'; problems: string[] };

interface Envelope {
  deliveryId: string;
  sourceEvent: string;
}

type Parser = (body: unknown, envelope: Envelope) => ParseResult;

/** Binds a schema to its normaliser; the normaliser's input type is inferred from the schema. */
function parser<S extends z.ZodType>(schema: S, normalise: (payload: z.infer<S>, envelope: Envelope) => DomainEvent): Parser {
  return (body, envelope) => {
    const parsed = schema.safeParse(body);
    if (parsed.success) return { kind: 'event', event: normalise(parsed.data, envelope) };
    return {
      kind: 'invalid',
      problems: parsed.error.issues.slice(0, 10).map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`),
    };
  };
}

const pullRequestParser = parser(pullRequestSchema, (payload, { deliveryId, sourceEvent }) =>
  normalisePullRequest(payload, { deliveryId, sourceEvent: sourceEvent as PullRequestEventKey }),
);

/** Event key -> parser: one file per event family (push.ts, pullrequest.ts), schema beside normaliser. */
const CLOUD_EVENT_PARSERS: ReadonlyMap<string, Parser> = new Map<string, Parser>([
  ['repo:push', parser(pushSchema, normalisePush)],
  ...Object.keys(PULL_REQUEST_ACTIONS).map((key): [string, Parser] => [key, pullRequestParser]),
]);

/** Event keys the app acts on; the descriptor subscribes to exactly these (a test checks). */
export const HANDLED_CLOUD_EVENTS: readonly string[] = [...CLOUD_EVENT_PARSERS.keys()];

/** Validates a bare (already unwrapped) Bitbucket Cloud webhook body and normalises it. */
export function parseCloudEvent(eventKey: string, body: unknown, deliveryId: string): ParseResult {
  const parse = CLOUD_EVENT_PARSERS.get(eventKey);
  return parse ? parse(body, { deliveryId, sourceEvent: eventKey }) : { kind: 'unhandled' };
}
