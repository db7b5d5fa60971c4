import { describe, expect, it } from 'vitest';
import { BudgetExhaustedError, CallBudget, WEBHOOK_RESERVE_SHARE } from './budget.ts';

describe('CallBudget: background work leaves a reserve for webhook scans', () => {
  const ok = (async () => new Response('')) as typeof fetch;

  it('refuses background calls once only the reserve is left, while webhook calls spend it', async () => {
    let now = 0;
    const budget = new CallBudget({ burst: 100, perHour: 3_600, now: () => now });
    const background = budget.background().meter('tenant', ok);
    const webhook = budget.meter('tenant', ok);
    const reserve = 100 * WEBHOOK_RESERVE_SHARE;

    let made = 0;
    for (;;) {
      try {
        await background('https://api.example/x');
        made++;
      } catch (error) {
        expect(error).toBeInstanceOf(BudgetExhaustedError);
        // The wait is until a call above the reserve exists again: one call at 1 per second.
        expect((error as BudgetExhaustedError).retryAfterMs).toBe(1_000);
        break;
      }
    }
    expect(made).toBe(100 - reserve);
    expect(budget.remaining('tenant')).toBe(reserve);
    for (let i = 0; i < reserve; i++) await webhook('https://api.example/y');
    expect(() => webhook('https://api.example/y')).toThrow(BudgetExhaustedError);

    // Another installation's background work is not held back by this one's.
    await expect(budget.background().meter('other', ok)('https://api.example/z')).resolves.toBeInstanceOf(Response);
    now += 1_000;
    await expect(webhook('https://api.example/y')).resolves.toBeInstanceOf(Response);
  });
});
