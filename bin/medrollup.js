#!/usr/bin/env node
// `npx medrollup`: the CLI is TypeScript run through tsx's loader (no build step to forget).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../sdk/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
