import type { DomainEvent } from '../../core/events.ts';

export interface Envelope {
  deliveryId: string;
  sourceEvent: string;
  instanceId: string;
}

/**
 * What a delivery comes to: an event for the core, a delivery acknowledged and deliberately
 * not acted on (with why), an event key the app does not subscribe to, or a payload that
 * fails its schema.
 */
export type ParseResult =
  | { kind: 'event'; event: DomainEvent }
  | { kind: 'ignored'; reason: string }
  | { kind: 'unhandled' }
  | { kind: 'invalid'; problems: string[] };
