import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EXTRACT_FILE, extractOpenApi, FULL_OPENAPI_FILE, renderExtract } from './openapi-extract.ts';

describe('OpenAPI extract for the simulator', () => {
  it('keeps request parameters, bodies, classic and granular scopes and referenced components; drops responses and prose', () => {
    const doc = {
      openapi: '3.0.0',
      info: { title: 'T', version: '2.0', description: 'long prose' },
      paths: {
        '/r/{id}': {
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' }, description: 'the id' }],
          put: {
            summary: 'Put one',
            requestBody: { $ref: '#/components/requestBodies/thing' },
            security: [{ oauth2: ['repository'] }],
            'x-atlassian-oauth2-scopes': [{ state: 'Current', scheme: 'oauth2', scopes: ['write:repository:bitbucket'] }],
            'x-internal': 'dropped',
            responses: { 200: { description: 'ok', content: { 'application/json': { schema: { $ref: '#/components/schemas/unused' } } } } },
          },
        },
      },
      components: {
        requestBodies: { thing: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/thing' } } } } },
        schemas: {
          thing: { type: 'object', description: 'A thing', properties: { description: { type: 'string', description: 'its description' }, base: { $ref: '#/components/schemas/base' } } },
          base: { type: 'object', 'x-bb-note': 'internal', properties: { title: { type: 'string' } } },
          unused: { type: 'object' },
        },
      },
    };
    expect(extractOpenApi(doc)).toEqual({
      openapi: '3.0.0',
      info: { title: 'T', version: '2.0' },
      paths: {
        '/r/{id}': {
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
          put: {
            requestBody: { $ref: '#/components/requestBodies/thing' },
            security: [{ oauth2: ['repository'] }],
            'x-atlassian-oauth2-scopes': [{ state: 'Current', scheme: 'oauth2', scopes: ['write:repository:bitbucket'] }],
          },
        },
      },
      components: {
        requestBodies: { thing: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/thing' } } } } },
        schemas: {
          base: { type: 'object', properties: { title: { type: 'string' } } },
          thing: { type: 'object', properties: { description: { type: 'string' }, base: { $ref: '#/components/schemas/base' } } },
        },
      },
    });
  });

  it('refuses a $ref it cannot follow', () => {
    expect(() => extractOpenApi({ paths: { '/a': { post: { requestBody: { $ref: '#/components/schemas/missing' } } } }, components: { schemas: {} } })).toThrow(/points at nothing/);
  });

  // The full description lives outside the repository; where it is present (a maintainer's
  // checkout), the committed extract must be exactly what it yields.
  it.skipIf(!existsSync(FULL_OPENAPI_FILE))('bitbucket-openapi.json is the current extract of the full description', () => {
    expect(readFileSync(EXTRACT_FILE, 'utf8')).toBe(renderExtract(JSON.parse(readFileSync(FULL_OPENAPI_FILE, 'utf8'))));
  });
});
