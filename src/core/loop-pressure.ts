import { performance, type EventLoopUtilization } from 'node:perf_hooks';

/**
 * How busy this thread's event loop has been lately: the share of the last window it spent
 * running callbacks rather than waiting (Node's event-loop utilization). The worker pool asks
 * it before claiming jobs, so that webhook acknowledgements, which share the loop with every
 * job callback, are answered first and jobs run on the slack.
 */
export interface LoopPressureOptions {
  /** Busy above this share of the window (0..1). */
  threshold?: number;
  /** The window a reading covers; a reading is reused until it is this old. */
  windowMs?: number;
  /**
   * Requests received so far, a count the HTTP server keeps. Given, a window counts as busy only
   * if requests arrived in it: jobs alone keep the loop busy too, and with nobody waiting for an
   * answer they may have all of it.
   */
  arrivals?: () => number;
}

export const LOOP_PRESSURE_DEFAULTS = { threshold: 0.5, windowMs: 50 } as const;

/**
 * Returns `busy()`, sampled lazily: no timer, a reading only when asked and the last one is at
 * least `windowMs` old. After a long quiet spell the first reading covers the whole spell (and
 * says "not busy", which it was); the ones after it cover about one window each, since a pool
 * held back asks again every window.
 */
export function loopPressure(options: LoopPressureOptions = {}): () => boolean {
  const threshold = options.threshold ?? LOOP_PRESSURE_DEFAULTS.threshold;
  const windowMs = options.windowMs ?? LOOP_PRESSURE_DEFAULTS.windowMs;
  let since: EventLoopUtilization = performance.eventLoopUtilization();
  let sampledAt = performance.now();
  const arrivals = options.arrivals;
  let arrived = arrivals?.() ?? 0;
  let busy = false;
  return () => {
    const now = performance.now();
    if (now - sampledAt >= windowMs) {
      const current = performance.eventLoopUtilization();
      const count = arrivals?.() ?? 0;
      const requested = arrivals === undefined || count !== arrived;
      busy = requested && performance.eventLoopUtilization(current, since).utilization > threshold;
      since = current;
      sampledAt = now;
      arrived = count;
    }
    return busy;
  };
}
