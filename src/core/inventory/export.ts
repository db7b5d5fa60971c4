import { applyMapping, type Mapping } from './mapping.ts';
import type { EntityType, InventoryEntity } from './model.ts';

/**
 * Export rows as JSON Lines or CSV. A JSON Lines row is the entity (or the mapping's row);
 * a CSV row has fixed columns: the mapping's fields, or, without a mapping, the one entity
 * type's columns below, nested objects as dotted names and lists joined with `;`.
 */

export const EXPORT_FORMATS = ['jsonl', 'csv'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export const CSV_COLUMNS: Record<EntityType, string[]> = {
  project: ['schemaVersion', 'type', 'id', 'key', 'name', 'repositories'],
  repository: [
    'schemaVersion', 'type', 'id', 'uuid', 'fullName', 'name', 'project', 'isPrivate', 'defaultBranch', 'language', 'sizeBytes', 'updatedOn', 'deletedAt',
    'coverage.status', 'coverage.commit', 'coverage.reason', 'coverage.updatedAt', 'verdict',
    'findings.open', 'findings.triaged', 'findings.fixed', 'findings.newAdvisory', 'components', 'findings.inHistory',
  ],
  pullRequest: ['schemaVersion', 'type', 'id', 'repository', 'repositoryFullName', 'prId', 'sourceBranch', 'destinationBranch', 'commit', 'verdict', 'updatedAt'],
  finding: [
    'schemaVersion', 'type', 'id', 'repository', 'repositoryFullName', 'project', 'branch', 'commit', 'fingerprint', 'kind', 'ruleId', 'severity', 'path', 'line', 'message',
    'state', 'triage.status', 'triage.by', 'triage.at', 'triage.reason', 'fixedAt', 'newAdvisory', 'since', 'preview',
    'ecosystem', 'package', 'version', 'advisory', 'fixedVersion', 'inHistory', 'history.commit', 'history.authorDate',
  ],
  component: ['schemaVersion', 'type', 'id', 'purl', 'ecosystem', 'name', 'version', 'repositories'],
};

/** Turns entities into output lines; the header (CSV) comes first. */
export class RowWriter {
  readonly #mapping: Mapping | null;
  readonly #columns: string[] | null;

  /** CSV without a mapping takes exactly one type. */
  constructor(format: ExportFormat, mapping: Mapping | null, csvType?: EntityType) {
    this.#mapping = mapping;
    this.#columns = format === 'csv' ? (mapping ? mapping.fields.map((f) => f.name) : CSV_COLUMNS[csvType ?? 'finding']) : null;
  }

  header(): string {
    return this.#columns ? `${this.#columns.map(csvCell).join(',')}\r\n` : '';
  }

  /** The entity's line, or '' when the mapping leaves its type out. */
  line(entity: InventoryEntity): string {
    const row = this.#mapping ? applyMapping(this.#mapping, entity) : (entity as unknown as Record<string, unknown>);
    if (row === null) return '';
    if (!this.#columns) return `${JSON.stringify(row)}\n`;
    const values = this.#mapping ? row : flatten(row);
    return `${this.#columns.map((c) => csvCell(values[c])).join(',')}\r\n`;
  }
}

function flatten(value: Record<string, unknown>, prefix = '', out: Record<string, unknown> = {}): Record<string, unknown> {
  for (const [key, v] of Object.entries(value)) {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) flatten(v as Record<string, unknown>, `${prefix}${key}.`, out);
    else out[`${prefix}${key}`] = v;
  }
  return out;
}

/**
 * RFC 4180 quoting. A text cell starting with = + - @ or a tab is prefixed with `'`: a
 * spreadsheet would otherwise run it as a formula (a file path or commit message is
 * whatever a repository's author wrote).
 */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  let text = Array.isArray(value) ? value.map((v) => (typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v))).join(';') : typeof value === 'object' ? JSON.stringify(value) : String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
