import { describe, expect, it } from 'vitest';
import { RowWriter, csvCell } from './export.ts';
import { applyMapping, MappingError, parseMapping } from './mapping.ts';
import { INVENTORY_SCHEMA_VERSION, type ComponentEntity, type ProjectEntity } from './model.ts';

const component: ComponentEntity = {
  schemaVersion: INVENTORY_SCHEMA_VERSION, type: 'component', id: 'pkg:npm/lodash@4.17.20', purl: 'pkg:npm/lodash@4.17.20',
  ecosystem: 'npm', name: 'lodash', version: '4.17.20', repositories: ['acme/a', 'acme/b'],
};
const project: ProjectEntity = { schemaVersion: INVENTORY_SCHEMA_VERSION, type: 'project', id: 'project:PAY', key: 'PAY', name: 'Payments', repositories: 2 };

function errorOf(text: string): MappingError {
  try {
    parseMapping(text);
  } catch (error) {
    if (error instanceof MappingError) return error;
    throw error;
  }
  throw new Error('the mapping was accepted');
}

describe('export mapping', () => {
  it('selects types, renames, takes paths with indexes, constants and defaults, in the order written', () => {
    const mapping = parseMapping(['version: 1', 'types: [component]', 'fields:', '  package: name', '  first_repo: repositories[0]', '  third_repo: { path: "repositories[2]", default: none }', '  source: { const: gatehouse }'].join('\n'));
    expect(applyMapping(mapping, component)).toEqual({ package: 'lodash', first_repo: 'acme/a', third_repo: 'none', source: 'gatehouse' });
    expect(Object.keys(applyMapping(mapping, component)!)).toEqual(['package', 'first_repo', 'third_repo', 'source']);
    expect(applyMapping(mapping, project)).toBeNull();
  });

  it('reads JSON as well', () => {
    const mapping = parseMapping('{"version": 1, "fields": {"k": "key", "n": "name"}}');
    expect(applyMapping(mapping, project)).toEqual({ k: 'PAY', n: 'Payments' });
  });

  it('refuses a broken or unknown mapping with the line and column of the problem', () => {
    expect(errorOf('version: 1\nfields:\n  a: [b\n')).toMatchObject({ line: 4, column: 1 });
    expect(errorOf('version: 1\nfields:\n  a: key\n  b: name..x\n')).toMatchObject({ line: 4, column: 6 });
    expect(errorOf('version: 1\nfields:\n  a: { path: key, const: 1 }\n')).toMatchObject({ line: 3, column: 6 });
    expect(errorOf('version: 1\ntypes: [finding, widget]\nfields: { a: id }\n')).toMatchObject({ line: 2, column: 18 });
    expect(errorOf('version: 2\nfields: { a: id }\n')).toMatchObject({ line: 1, column: 10 });
    expect(errorOf('version: 1\nfields: { a: id }\nscript: rm -rf /\n')).toMatchObject({ line: 3, column: 1 });
    expect(errorOf('version: 1\n')).toMatchObject({ line: 1, column: 1 });
    expect(errorOf('version: 1\nfields: { a: id, a: key }\n').line).toBe(2);
    // Paths only read the entity's own fields.
    expect(applyMapping(parseMapping('version: 1\nfields:\n  a: constructor.prototype\n  b: key.length\n'), project)).toEqual({ a: null, b: null });
  });
});

describe('export rows', () => {
  it('writes CSV with fixed columns, lists joined, quotes and formula guards', () => {
    const writer = new RowWriter('csv', null, 'component');
    expect(writer.header()).toBe('schemaVersion,type,id,purl,ecosystem,name,version,repositories\r\n');
    expect(writer.line(component)).toBe('1,component,pkg:npm/lodash@4.17.20,pkg:npm/lodash@4.17.20,npm,lodash,4.17.20,acme/a;acme/b\r\n');
    expect(csvCell('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell(null)).toBe('');
  });

  it('writes JSON Lines, through a mapping when given', () => {
    expect(new RowWriter('jsonl', null).line(project)).toBe(`${JSON.stringify(project)}\n`);
    const mapping = parseMapping('version: 1\ntypes: [project]\nfields: { k: key }\n');
    const writer = new RowWriter('jsonl', mapping);
    expect(writer.line(project)).toBe('{"k":"PAY"}\n');
    expect(writer.line(component)).toBe('');
  });
});
