import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_OPENAPI_FILE,
  extractSchemas,
  renderTypes,
  SCHEMAS_FILE,
  serializeSchemas,
  typeName,
  TYPES_FILE,
  type SchemaMap,
} from './generate-types.ts';

const committedSchemas = JSON.parse(readFileSync(SCHEMAS_FILE, 'utf8')) as SchemaMap;

describe('OpenAPI-derived types', () => {
  it('openapi-types.ts is exactly what the generator renders from openapi-schemas.json', () => {
    expect(readFileSync(TYPES_FILE, 'utf8')).toBe(renderTypes(committedSchemas));
  });

  // The full description lives outside the repository (../shared/reference); where it is
  // present, the committed extract must match it.
  it.skipIf(!existsSync(DEFAULT_OPENAPI_FILE))('openapi-schemas.json is the current extract of the Bitbucket Cloud OpenAPI', () => {
    const openapi = JSON.parse(readFileSync(DEFAULT_OPENAPI_FILE, 'utf8'));
    expect(readFileSync(SCHEMAS_FILE, 'utf8')).toBe(serializeSchemas(extractSchemas(openapi)));
  });

  it('renders references, allOf, enums (with null), arrays, required and optional members', () => {
    const schemas: SchemaMap = {
      object: { type: 'object', properties: { type: { type: 'string' } }, required: ['type'] },
      thing: {
        allOf: [
          { $ref: '#/components/schemas/object' },
          {
            type: 'object',
            description: 'A thing. */ not a comment end',
            properties: {
              state: { type: 'string', enum: ['a', 'b', null] },
              tags: { type: 'array', items: { type: 'string' } },
              'odd-name': { type: 'integer' },
              bag: { type: 'object' },
              empty: { type: 'object', properties: {} },
            },
          },
        ],
      },
    };
    const source = renderTypes(schemas);
    expect(source).toContain('export type ObjectSchema = {\n  type: string;\n};');
    expect(source).toContain('export type Thing = ObjectSchema & {\n  state?: "a" | "b" | null;\n  tags?: Array<string>;\n  "odd-name"?: number;\n  bag?: { [key: string]: unknown };\n  empty?: { [key: string]: unknown };\n};');
    expect(source).not.toContain('*/ not');
  });

  it('follows references transitively and fails loudly on a missing one', () => {
    const doc = { components: { schemas: { a: { $ref: '#/components/schemas/b' }, b: { type: 'string' }, c: { type: 'string' } } } };
    expect(Object.keys(extractSchemas(doc, ['a']))).toEqual(['a', 'b']);
    expect(() => extractSchemas(doc, ['missing'])).toThrow(/missing is not in components.schemas/);
  });

  it('never names a type after a TypeScript global', () => {
    expect(typeName('object')).toBe('ObjectSchema');
    expect(typeName('error')).toBe('ErrorSchema');
    expect(typeName('pullrequest_comment')).toBe('PullrequestComment');
  });
});
