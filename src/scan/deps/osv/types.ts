import type { Severity } from '../../types.ts';

/** The parts of an OSV record (https://ossf.github.io/osv-schema/) that matching reads. */
export interface OsvEvent {
  introduced?: string;
  fixed?: string;
  last_affected?: string;
  limit?: string;
}

export interface OsvRange {
  type: string;
  events?: OsvEvent[];
}

export interface OsvSeverity {
  type: string;
  score: string;
}

export interface OsvAffected {
  package?: { ecosystem?: string; name?: string; purl?: string };
  ranges?: OsvRange[];
  versions?: string[];
  severity?: OsvSeverity[];
  database_specific?: Record<string, unknown>;
}

export interface OsvRecord {
  id: string;
  modified?: string;
  withdrawn?: string;
  aliases?: string[];
  summary?: string;
  details?: string;
  severity?: OsvSeverity[];
  affected?: OsvAffected[];
  database_specific?: Record<string, unknown>;
}

/** A version range as stored in the index: GIT ranges are dropped when the index is built. */
export interface IndexedRange {
  type: 'SEMVER' | 'ECOSYSTEM';
  /** One field per event, sorted for evaluation ("0" first, then by version). */
  events: OsvEvent[];
}

export interface IndexedAffected {
  ranges: IndexedRange[];
  versions: string[];
}

/** One advisory as it concerns one package: only what matching and reporting need. */
export interface IndexedAdvisory {
  id: string;
  aliases: string[];
  summary: string;
  severity: Severity;
  modified: string;
  affected: IndexedAffected[];
}
