import type { FuzzResponse } from './target.ts';

/**
 * What every answer must be, whatever was asked: an answer at all; never a 5xx; an error as
 * `{"error":{"code","message"}}` JSON (an iframe page may instead render its error as HTML);
 * and nothing about the server's insides (stack frames, file paths, node_modules).
 * Returns the problems found, empty when the answer is fine.
 */
export function answerProblems(res: FuzzResponse, o: { method: string; htmlAllowed: boolean; requestText: string; secretPaths: readonly string[] }): string[] {
  if (!res.ok) return [`no answer: ${res.error}`];
  const problems: string[] = [];
  if (res.status >= 500) problems.push(`status ${res.status}`);
  const type = String(res.headers['content-type'] ?? '');
  const text = res.body.toString('utf8');
  const bodyless = o.method === 'HEAD' || res.status === 204 || res.status === 304;

  if (res.status >= 400 && !bodyless) {
    if (/^application\/json/i.test(type)) {
      const shapeProblem = errorShapeProblem(text);
      if (shapeProblem) problems.push(shapeProblem);
    } else if (!(o.htmlAllowed && /^text\/html/i.test(type))) {
      problems.push(`error answer ${res.status} is ${type || 'untyped'}, not JSON: ${JSON.stringify(text.slice(0, 120))}`);
    }
  }

  if (/\n\s+at \S+ \(|\n\s+at (?:file|node):|\bat async \S/.test(text)) problems.push('body carries a stack trace');
  for (const secret of o.secretPaths) if (text.includes(secret)) problems.push(`body names a server path (${secret})`);
  if (text.includes('node_modules') && !o.requestText.includes('node_modules')) problems.push('body mentions node_modules');
  return problems;
}

function errorShapeProblem(text: string): string | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return `error body is not JSON: ${JSON.stringify(text.slice(0, 120))}`;
  }
  const error = (value as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  const keys = value !== null && typeof value === 'object' ? Object.keys(value) : [];
  if (!error || typeof error.code !== 'string' || typeof error.message !== 'string' || keys.length !== 1 || error.code === '') {
    return `error body is not {"error":{"code","message"}}: ${JSON.stringify(text.slice(0, 160))}`;
  }
  return undefined;
}
