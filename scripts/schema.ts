/**
 * Writes schema.graphql (the API's SDL, generated from the resolvers), or with --check fails
 * when the committed file differs from what the resolvers build (CI: npm test runs --check).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { lexicographicSortSchema, printSchema } from 'graphql';
import { createPubSub } from '@graphql-yoga/subscription';
import { buildApiSchema } from '../api/schema.js';

const FILE = join(dirname(fileURLToPath(import.meta.url)), '..', 'schema.graphql');
const HEADER = '# Generated from api/resolvers by `npm run schema`; do not edit. npm test fails when it drifts.\n\n';

const sdl = HEADER + printSchema(lexicographicSortSchema(await buildApiSchema(createPubSub()))) + '\n';
if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(FILE, 'utf8');
  } catch {
    // missing file: reported below
  }
  if (current !== sdl) {
    console.error('schema.graphql is out of date with api/resolvers: run `npm run schema` and commit the result.');
    process.exit(1);
  }
  console.log('schema.graphql matches the resolvers');
} else {
  writeFileSync(FILE, sdl);
  console.log(`wrote ${FILE}`);
}
