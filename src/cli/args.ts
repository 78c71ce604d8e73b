import { type ParseArgsConfig, parseArgs } from 'node:util';
import { errorMessage, VouchError } from '../core/errors.ts';

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * util.parseArgs with errors turned into USAGE errors that name the verb, and
 * `--` handling: everything after it is returned untouched as `rest`.
 */
export function parse<O extends Options>(verb: string, argv: string[], options: O) {
  const dash = argv.indexOf('--');
  const head = dash === -1 ? argv : argv.slice(0, dash);
  const rest = dash === -1 ? [] : argv.slice(dash + 1);
  try {
    const { values, positionals } = parseArgs({
      args: head,
      options: { ...options, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
    return { values, positionals, rest };
  } catch (e) {
    throw new VouchError('USAGE', `vouch ${verb}: ${errorMessage(e)} (see vouch ${verb} --help)`);
  }
}

export function usage(verb: string, message: string): VouchError {
  return new VouchError('USAGE', `vouch ${verb}: ${message} (see vouch ${verb} --help)`);
}

/**
 * The subcommand of a verb that has them (`vouch repro diff …`), one way for
 * every such verb: `--help`, `-h` or `help` asks for the verb's help
 * (returned as 'help', the caller prints it and exits 0); none, or one not in
 * `known`, is a USAGE error naming the choices.
 *
 * @throws VouchError USAGE
 */
export function subcommand<S extends string>(
  verb: string,
  argv: readonly string[],
  known: readonly S[],
): { sub: S; rest: string[] } | 'help' {
  const [sub, ...rest] = argv;
  if (sub === '--help' || sub === '-h' || sub === 'help') return 'help';
  const choices = `use ${known.length > 1 ? `${known.slice(0, -1).join(', ')} or ${known.at(-1)}` : known[0]}`;
  // A flag first (`vouch db --json`) means the subcommand is missing, not named "--json".
  if (sub === undefined || sub.startsWith('-')) throw usage(verb, `missing subcommand: ${choices}`);
  if (!(known as readonly string[]).includes(sub)) {
    throw usage(verb, `unknown subcommand ${JSON.stringify(sub)}: ${choices}`);
  }
  return { sub: sub as S, rest };
}
