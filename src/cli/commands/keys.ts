import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { writeFileAtomic } from '../../core/atomic.ts';
import { VouchError } from '../../core/errors.ts';
import { type GeneratedKeyAlgorithm, generateKeyPair } from '../../sign/index.ts';
import { deprecatedAlias, parse, subcommand, usage } from '../args.ts';
import { type Io, printJson } from '../io.ts';
import { passphraseFor } from '../signing.ts';
import type { Command } from './command.ts';

const ALGORITHMS: readonly GeneratedKeyAlgorithm[] = ['ecdsa-p256', 'ecdsa-p384', 'ed25519'];

const HELP = `Usage: vouch keys generate [--algorithm A] [--prefix PREFIX] [--no-passphrase] [--force] [--json]

Writes PREFIX.key (PKCS#8 PEM, mode 0600, encrypted with a passphrase) and
PREFIX.pub (SPKI PEM), and prints the key id (sha256 of the public key).

  --algorithm A      ecdsa-p256 (default), ecdsa-p384, ed25519
  --prefix PREFIX    file name prefix of the pair (default: vouch)
  --out PREFIX       deprecated spelling of --prefix (--out names a signed
                     bundle elsewhere); warns
  --no-passphrase    write the private key unencrypted (tests, throwaway keys)
  --force            replace existing files
The passphrase comes from VOUCH_PASSPHRASE, else it is asked twice on the terminal.`;

export const keysCommand: Command = {
  name: 'keys',
  help: HELP,
  async run(argv, io) {
    const s = subcommand('keys', argv, ['generate']);
    if (s === 'help') {
      io.stdout(`${HELP}\n`);
      return 0;
    }
    const { rest } = s;
    const { values } = parse('keys generate', rest, {
      algorithm: { type: 'string', default: 'ecdsa-p256' },
      prefix: { type: 'string' },
      out: { type: 'string' },
      'no-passphrase': { type: 'boolean' },
      force: { type: 'boolean' },
    });
    if (values.help) {
      io.stdout(`${HELP}\n`);
      return 0;
    }
    const algorithm = values.algorithm as GeneratedKeyAlgorithm;
    if (!ALGORITHMS.includes(algorithm)) {
      throw usage('keys generate', `--algorithm must be one of ${ALGORITHMS.join(', ')}`);
    }
    const name =
      deprecatedAlias(
        'keys generate',
        io,
        { name: '--prefix', value: values.prefix },
        { name: '--out', value: values.out, why: '--out is the signed bundle in other verbs' },
      ) ?? 'vouch';
    const prefix = resolve(io.cwd, name);
    const exclusive = !values.force;
    // Refuse before asking for a passphrase, and before writing either half: a new .pub
    // beside an old .key would be a public key that does not match its private key.
    if (exclusive) {
      for (const file of [`${name}.pub`, `${name}.key`]) {
        if (existsSync(resolve(io.cwd, file)))
          throw new VouchError('FILE_WRITE', 'file already exists (use --force to replace it)', {
            file,
          });
      }
    }
    const passphrase = values['no-passphrase'] ? undefined : await newPassphrase(`${name}.key`, io);
    const pair = generateKeyPair(algorithm, passphrase);
    // Public key first: a half-finished run never leaves a private key without its public half.
    await writeFileAtomic(`${prefix}.pub`, pair.publicKeyPem, { exclusive });
    try {
      await writeFileAtomic(`${prefix}.key`, pair.privateKeyPem, { exclusive, mode: 0o600 });
    } catch (e) {
      // A .key appeared since the check: take back the .pub this run created.
      if (exclusive) await rm(`${prefix}.pub`, { force: true });
      throw e;
    }
    const out = {
      keyid: pair.keyid,
      algorithm,
      encrypted: passphrase !== undefined,
      privateKey: `${name}.key`,
      publicKey: `${name}.pub`,
    };
    if (values.json) printJson(io, out);
    else {
      io.stdout(
        `${out.privateKey}  private key (${algorithm}${out.encrypted ? ', encrypted' : ', NOT encrypted'})\n`,
      );
      io.stdout(`${out.publicKey}  public key\nkeyid ${pair.keyid}\n`);
    }
    return 0;
  },
};

async function newPassphrase(keyFile: string, io: Io): Promise<string> {
  if (io.env.VOUCH_PASSPHRASE) return io.env.VOUCH_PASSPHRASE;
  const first = await passphraseFor(keyFile, io);
  const again = await io.promptSecret('Repeat the passphrase: ');
  if (again !== first) throw usage('keys generate', 'the passphrases differ');
  if (first === '')
    throw usage('keys generate', 'empty passphrase: use --no-passphrase for an unencrypted key');
  return first;
}
