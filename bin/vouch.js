#!/usr/bin/env node
// npm's bin entry. From a checkout, prefer ./bin/vouch, which also finds a
// recent enough Node.js.
import '../src/cli/main.ts';
