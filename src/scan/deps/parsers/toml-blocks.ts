import { parse as parseToml } from 'smol-toml';
import { ParseError } from '../errors.ts';
import { isRecord } from './json-lines.ts';
import { splitLines } from './lines.ts';

/**
 * poetry.lock and Cargo.lock are TOML files whose packages are `[[package]]` tables. TOML
 * parsers drop positions, so the line of each table's `name = ` key is found by counting
 * `[[package]]` headers, which appear in the same order as the parsed array.
 */
export function readPackageTables(file: string, content: string): { doc: Record<string, unknown>; packages: { table: Record<string, unknown>; line: number }[] } {
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(content) as Record<string, unknown>;
  } catch (error) {
    throw new ParseError(file, `invalid TOML (${(error as Error).message.split('\n')[0]})`);
  }
  const tables = Array.isArray(doc.package) ? doc.package : [];
  const headerLines: number[] = [];
  const lines = splitLines(content);
  let header = -1;
  for (let i = 0; i < lines.length; i++) {
    const text = (lines[i] ?? '').trim();
    if (/^\[\[\s*package\s*\]\]/.test(text)) {
      header = i + 1;
      headerLines.push(header);
    } else if (header !== -1 && /^name\s*=/.test(text)) {
      headerLines[headerLines.length - 1] = i + 1;
      header = -1;
    } else if (text.startsWith('[')) {
      header = -1;
    }
  }
  return {
    doc,
    packages: tables.filter(isRecord).map((table, index) => ({ table, line: headerLines[index] ?? 0 })),
  };
}
