import { parse, usage } from '../args.ts';
import { attachBundle, REGISTRY_DIGEST_HELP, REGISTRY_OPTIONS } from '../oci.ts';
import type { Command } from './command.ts';

const HELP = `Usage: vouch attach oci://HOST[:PORT]/REPO@sha256:HEX BUNDLE [options]

Pushes an existing Sigstore bundle to the registry as an OCI 1.1 referrer of
the image digest (cosign's layout: artifactType
application/vnd.dev.sigstore.bundle.v0.3+json), falling back to the referrers
tag schema (sha256-HEX) when the registry has no referrers API. A bundle whose
Statement does not name the image digest is refused. The image must be given
by digest: a tag can move.

  --json               print a JSON summary on stdout
${REGISTRY_DIGEST_HELP}

Exit codes: 0 attached, 2 bad input or registry error.`;

export const attachCommand: Command = {
  name: 'attach',
  help: HELP,
  async run(argv, io) {
    const { values, positionals } = parse('attach', argv, { ...REGISTRY_OPTIONS });
    if (values.help) {
      io.stdout(`${HELP}\n`);
      return 0;
    }
    if (positionals.length !== 2)
      throw usage('attach', 'give an oci://…@sha256:HEX reference and a bundle file');
    const [target, bundle] = positionals as [string, string];
    if (!target.startsWith('oci://')) throw usage('attach', `${target} is not an oci:// reference`);
    return attachBundle(target, bundle, values, io);
  },
};
