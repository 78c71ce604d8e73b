// Runs one `vouch scan` in this process (as bin/vouch.js would, compile cache
// on) and prints its peak RSS in MiB on stderr as `maxrss=<n>`, for scan.bench.ts.
import { enableCompileCache } from 'node:module';

enableCompileCache?.();
const { main } = await import('../src/cli/main.ts');
const { processIo } = await import('../src/cli/io.ts');
const code = await main(['scan', ...process.argv.slice(2)], processIo());
process.stderr.write(`maxrss=${(process.resourceUsage().maxRSS / 1024).toFixed(1)}\n`);
process.exitCode = code;
