import type { Severity } from '../types.ts';
import type { ChecksumName, VerifierName } from './verify.ts';

/**
 * A secret-detection rule is data. Every rule carries its own examples; the test
 * suite runs each rule on them (and on adversarial input), so a rule without
 * examples, or whose examples disagree with it, fails the build.
 */
export interface SecretRule {
  /** kebab-case, unique, e.g. `aws-access-key-id`. */
  id: string;
  description: string;
  severity: Severity;
  /**
   * Lower-case literals, at least one of which must occur in the text for the regex
   * to run (the Aho-Corasick pre-filter). Choose the most specific literal the token
   * format guarantees, e.g. `akia` for AWS keys, `ghp_` for GitHub PATs.
   */
  keywords: string[];
  /**
   * JavaScript regex source (no surrounding slashes). Compiled with the `g` flag plus
   * `flags`. Must be linear-time in practice: bounded quantifiers such as `{20,80}`
   * instead of `+`/`*` where a match can be long, no nested quantifiers.
   */
  regex: string;
  /** Extra regex flags, e.g. `i`. */
  flags?: string;
  /** Capture group holding the secret itself; 0 (default) = the whole match. */
  secretGroup?: number;
  /** Minimum Shannon entropy (bits per character) of the secret, when the format alone is not specific. */
  entropy?: number;
  allowlist?: {
    /** Regex sources; a secret matching any of them is not reported. */
    secrets?: string[];
    /** Regex sources tested against the path. */
    paths?: string[];
    /** Lower-case words which, when present in the secret, mark it as a placeholder. */
    stopwords?: string[];
  };
  /**
   * The lines around a keyword's line that the regex sees. Default: the line alone, or
   * 120 lines either side when the regex can cross a line break (room for a PEM key
   * whose keyword sits on its END line). An assignment whose value may sit on the next
   * line (`<token>` then the value, YAML `key: |`) needs `{ before: 0, after: 1 }`: every
   * extra line is regex work on every keyword hit, so windows stay as small as the
   * construct allows. A rule whose keyword and secret sit on different lines of one
   * construct (a `curl` command continued with `\`) sets one explicitly.
   */
  window?: { before: number; after: number };
  /** A structural check the secret must pass (decoded JWT header, Kubernetes base64 value); failing drops it. */
  verify?: VerifierName;
  /** The token's own checksum; a token that fails it is reported at low severity (a sample or a typo). */
  checksum?: ChecksumName;
  /** Whole-file rule (e.g. a PKCS#12 file by name): reported on line 0. */
  path?: string;
  examples: {
    /** Lines (or small snippets) that must produce at least one finding of this rule. */
    truePositives: string[];
    /** Lines that must produce no finding of this rule. */
    falsePositives: string[];
  };
}
