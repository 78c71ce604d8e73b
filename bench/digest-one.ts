// Digests one file with vouch's digestFile and prints the sha256 hex, so the
// digest benchmark can time it as a whole process, like `openssl dgst`.
import { digestFile } from '../src/core/digest.ts';

const path = process.argv[2];
if (path === undefined) {
  process.stderr.write('usage: node bench/digest-one.ts <file>\n');
  process.exit(2);
}
const digest = await digestFile(path, ['sha256']);
process.stdout.write(`${digest.sha256}\n`);
