import type { z } from 'zod';

/** One line per zod issue: `where.path: message`. */
export function zodProblems(where: string, error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    const path = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
    return `${where}${path}: ${issue.message}`;
  });
}
