// Regex building blocks shared by the rule files, so that every rule spells token
// boundaries and `name = value` assignments the same way. The results are plain regex
// sources: rules stay data, these helpers only save retyping (and mistyping) them.

/** An optional quote around a name or a value, possibly escaped inside a string (`\"`). */
const QUOTE = `(?:\\\\{0,2}['"\`])?`;
/**
 * Between a name and its value: an optional type (`var apiToken string =`, `token: String =`),
 * then an operator of code or configuration: `=`, `:`, `:=`, Makefile `::=`, `:::=`, `?=`,
 * `+=`, PHP `.=`, `??=`, `=>`, a CSV or argument comma (`setProperty("x.token", "...")`), a
 * call's `(`, an XML element's `>`. An XML element or a YAML block scalar (`key: |`) may
 * put the value on the next line. Bounded throughout so it stays linear.
 */
const ASSIGN =
  `${QUOTE}(?:[ \\t]{0,3}:?[ \\t]{1,3}[A-Za-z][A-Za-z0-9_.<>\\[\\]?]{0,30})?[ \\t]{0,3}` +
  `(?:(?:\\?\\?=|:{1,3}=|[?+.|]?=|=>|:|,|\\()[ \\t]{0,3}|(?:>|:[ \\t]{0,3}[|>][-+]?)[ \\t]{0,3}(?:\\r?\\n[ \\t]{0,40})?)${QUOTE}`;

/**
 * A value assigned to a name that contains one of `names` (a regex alternation of
 * lower-case words; compile with the `i` flag), in any of the syntaxes ASSIGN knows.
 * Group 1 is the value, which must be a whole run of `alphabet` characters: `value` is
 * `[alphabet]{n}` or similar. Spread it into a rule: it sets `regex` and, since the value
 * may sit on the line after its name, a window of that one line.
 *
 * For tokens with no distinctive prefix, the only evidence of what they are is the
 * name they are stored under, e.g. `DATADOG_API_KEY=...`.
 */
export function assignedTo(names: string, value: string, alphabet: string): { regex: string; window: { before: number; after: number } } {
  return { regex: `(?:${names})[\\w.\\-]{0,30}?${ASSIGN}(${value})(?![${alphabet}])`, window: { before: 0, after: 1 } };
}

/**
 * A body that can match one way only: characters, escapes and classes, each once or a fixed
 * `{n}` times; no group, alternative, optional part or range of lengths.
 */
const FIXED_BODY = /^(?:(?:\\.|\[(?:[^\]\\]|\\.)*\]|[^\\[\](){}|?*+.^$])(?:\{\d+\})?)+$/;

/**
 * A token with a distinctive prefix, as group 1. It must not be preceded by a word
 * character nor followed by a character of its own alphabet, so a longer random
 * string that merely contains the pattern is not reported.
 *
 * A token of variable length is captured inside a lookahead and then consumed with a
 * backreference: JS lookaheads are atomic, so when the boundary check fails the engine does
 * not retry every shorter length of a `{20,200}` body (a run of prefixes would otherwise
 * cost length x retries at each one). A body that matches one way only has nothing to
 * retry and is matched plainly: V8 then skips ahead to its literal start, which a
 * lookahead hides from it (on lines that hold the keyword but no token, such as `pat` in
 * every `path`, about 30x less time). Use it as a rule's whole regex: its group is group 1.
 */
export function prefixed(body: string, alphabet: string): string {
  const token = FIXED_BODY.test(body) ? `(${body})` : `(?=(${body}))\\1`;
  return `(?<![A-Za-z0-9_])${token}(?![${alphabet}])`;
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
