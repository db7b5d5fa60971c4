// Regex building blocks shared by the rule files, so that every rule spells token
// boundaries and `name = value` assignments the same way. The results are plain regex
// sources: rules stay data, these helpers only save retyping (and mistyping) them.

/**
 * Separator between a name and its value in code and configuration: optional closing
 * quote, `=`, `:`, `:=` or `=>`, optional opening quote. Bounded so it stays linear.
 */
const ASSIGN = `['"\`]?[ \\t]{0,3}(?::=|=>|=|:)[ \\t]{0,3}['"\`]?`;

/**
 * A value assigned to a name that contains one of `names` (a regex alternation of
 * lower-case words; compile with the `i` flag). Group 1 is the value, which must be a
 * whole run of `alphabet` characters: `value` is `[alphabet]{n}` or similar.
 *
 * For tokens with no distinctive prefix, the only evidence of what they are is the
 * name they are stored under, e.g. `DATADOG_API_KEY=...`.
 */
export function assignedTo(names: string, value: string, alphabet: string): string {
  return `(?:${names})[\\w.\\-]{0,30}?${ASSIGN}(${value})(?![${alphabet}])`;
}

/**
 * A token with a distinctive prefix, as group 1. It must not be preceded by a word
 * character nor followed by a character of its own alphabet, so a longer random
 * string that merely contains the pattern is not reported.
 *
 * The token is captured inside a lookahead and then consumed with a backreference: JS
 * lookaheads are atomic, so when the boundary check fails the engine does not retry every
 * shorter length of a `{20,200}` body (a run of prefixes would otherwise cost
 * length x retries at each one). Use it as a rule's whole regex: its group is group 1.
 */
export function prefixed(body: string, alphabet: string): string {
  return `(?<![A-Za-z0-9_])(?=(${body}))\\1(?![${alphabet}])`;
}

export const HEX_DIGITS = '0123456789abcdef';

/**
 * Keywords `prefix` followed by each of `chars`, lower-cased. For a short prefix that is
 * also a common word fragment (`sk`, `key-`), requiring the next character to be one the
 * format allows keeps the pre-filter selective: `sk3` is rarer than `sk` (task, skip).
 */
export function keywordsFollowedBy(prefix: string, chars: string): string[] {
  return [...new Set([...chars.toLowerCase()].map((c) => `${prefix.toLowerCase()}${c}`))];
}
