import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { digestFile, isDigestString, parseDigest } from '../../core/digest.ts';
import { DirectoryStore } from '../../store/index.ts';
import { parse, subcommand, usage } from '../args.ts';
import { displayPath, printJson } from '../io.ts';
import type { Command } from './command.ts';

const HELP = `Usage: vouch evidence ls [<file | sha256:HEX>] [--store DIR] [--json]

Lists what the store holds about an artifact (or everything). Listing is not
verifying: use vouch verify to decide what is trusted.`;

export const evidenceCommand: Command = {
  name: 'evidence',
  help: HELP,
  async run(argv, io) {
    const s = subcommand('evidence', argv, ['ls']);
    if (s === 'help') {
      io.stdout(`${HELP}\n`);
      return 0;
    }
    const { rest } = s;
    const { values, positionals } = parse('evidence ls', rest, {
      store: { type: 'string', default: '.vouch' },
    });
    if (values.help) {
      io.stdout(`${HELP}\n`);
      return 0;
    }
    if (positionals.length > 1) throw usage('evidence ls', 'give at most one file or digest');
    const store = new DirectoryStore(resolve(io.cwd, values.store));
    const target = positionals[0];
    let entries: Awaited<ReturnType<DirectoryStore['list']>>;
    if (target === undefined) entries = await store.list();
    else if (isDigestString(target))
      entries = await store.find(`${parseDigest(target).algorithm}:${parseDigest(target).hex}`);
    else {
      const file = resolve(io.cwd, target);
      if (!existsSync(file) && /[:@]/.test(target)) {
        throw usage(
          'evidence ls',
          `${JSON.stringify(target)} is neither a file nor a digest (sha256:HEX or sha512:HEX); evidence is stored by digest, and a tag names none`,
        );
      }
      entries = await store.find(`sha256:${(await digestFile(file)).sha256}`);
    }
    if (values.json) {
      printJson(
        io,
        entries.map((e) => ({ ...e, path: displayPath(store.bundlePath(e.id), io.cwd) })),
      );
      return 0;
    }
    if (entries.length === 0) io.stdout('no evidence stored\n');
    for (const e of entries) {
      const names = e.subjects.map((s) => s.name).join(', ');
      io.stdout(
        `${e.storedAt}  ${e.predicateType}  ${names}\n  ${displayPath(store.bundlePath(e.id), io.cwd)}\n`,
      );
    }
    return 0;
  },
};
