#!/usr/bin/env node
import { processIo } from '../src/cli/io.ts';
// npm's bin entry. From a checkout, prefer ./bin/vouch, which also finds a
// recent enough Node.js.
import { main } from '../src/cli/main.ts';

process.exitCode = await main(process.argv.slice(2), processIo());
