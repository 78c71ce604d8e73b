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

/**
 * A flag kept under an old spelling: the value of `flag` (its name as shown,
 * e.g. `-o/--output`) or, when only the old spelling was given, the old one's,
 * with one deprecation warning on stderr. Both given is a USAGE error (they
 * would be two answers to one question); an empty value is one too.
 *
 * @throws VouchError USAGE
 */
export function deprecatedAlias(
  verb: string,
  io: { stderr: (text: string) => void },
  flag: { name: string; value: string | undefined },
  old: { name: string; value: string | undefined; why?: string },
): string | undefined {
  if (old.value !== undefined && flag.value !== undefined)
    throw usage(
      verb,
      `${old.name} is the old spelling of ${flag.name}${old.why ? ` (${old.why})` : ''}: give only ${flag.name}`,
    );
  const value = flag.value ?? old.value;
  if (value === '') throw usage(verb, `${flag.name} needs a file name`);
  if (old.value !== undefined)
    io.stderr(
      `vouch ${verb}: warning: ${old.name} is deprecated: use ${flag.name}${old.why ? ` (${old.why})` : ''}\n`,
    );
  return value;
}
