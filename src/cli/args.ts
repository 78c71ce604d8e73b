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
