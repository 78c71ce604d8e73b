// The floor for `vouch run` in this runtime: a bare Node script that walks
// the working directory and sha256s every file, the least any Node program
// doing that job can cost. JavaScript, not TypeScript, so it does not pay for
// loading Node's type stripper. The run benchmark times it beside vouch and
// the peer to show how much of vouch's time is the runtime's and how much is
// vouch's own work (stamps for products, the second walk, signing, storing).
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';

const skip = new Set(['.git', 'node_modules', '.vouch']);
const dirs = ['.'];
let n = 0;
while (dirs.length > 0) {
  const dir = dirs.pop();
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory()) {
      if (!skip.has(e.name)) dirs.push(path);
    } else if (e.isFile()) {
      createHash('sha256').update(readFileSync(path)).digest('hex');
      n++;
    }
  }
}
process.stdout.write(`${n}\n`);
