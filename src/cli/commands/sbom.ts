import { resolve } from 'node:path';
import { writeFileAtomic } from '../../core/atomic.ts';
import { readJsonFile } from '../../core/json.ts';
import type { Subject } from '../../core/statement.ts';
import { fileSubject } from '../../core/subject-name.ts';
import {
  type Accounting,
  type DiffComponent,
  detectTarget,
  diffSboms,
  FORMATS,
  formatByName,
  generateSbom,
  isComplete,
  isFailed,
  renderSbom,
  type SbomDiff,
  sbomCreated,
  sbomStatement,
  totalsOf,
} from '../../sbom/index.ts';
import { parse, usage } from '../args.ts';
import { displayPath, type Io, printJson } from '../io.ts';
import { PUBLISH_OPTIONS, signAndPublish } from '../publish.ts';
import { SIGNING_HELP, SIGNING_OPTIONS, signingModeFrom } from '../signing.ts';
import type { Command } from './command.ts';

const HELP = `Usage: vouch sbom <directory | lockfile | image> [options]
       vouch sbom diff <A> <B> [--json]

Writes an SBOM (CycloneDX 1.6 or SPDX 2.3 JSON) of a source tree, one
lockfile, or a container image (an OCI layout directory or a .tar from
docker save / an OCI archive), offline. Every source file's counts go to
stderr: entries declared, components emitted, merged, skipped (with reasons).
An unsupported lockfile version or construct is an error (exit 2) unless
--allow-partial, which turns it into a warning and marks the SBOM incomplete.

Options:
  --format F           cyclonedx-json (default) or spdx-json
  -o, --output FILE    write the document to FILE (atomically) instead of stdout
  --allow-partial      keep going past files a reader cannot read (warning; the
                       SBOM's accounting and composition say incomplete)
  --ignore GLOB        do not scan matching paths (relative to the directory;
                       a pattern without / matches names at any depth; repeatable)
  --json               print a JSON summary on stdout (accounting, totals, and
                       the document itself unless -o)

Attestation (sign the SBOM as an in-toto Statement about an artifact):
  --attest             sign; predicate type https://cyclonedx.org/bom or
                       https://spdx.dev/Document
  --subject FILE       the artifact the SBOM describes (required unless the
                       target is an image: then the image digest is the subject)
${SIGNING_HELP}
  --store DIR          evidence store (default: .vouch)
  --no-store           do not store the bundle
  --out FILE           also write the bundle to FILE (*.sigstore.json)

vouch sbom diff compares two SBOMs (CycloneDX or SPDX JSON, any mix) by package
(purl without version): added, removed, changed version or licence. Exit 0 when
they list the same packages, 1 when they differ, 2 on bad input.

Environment:
  SOURCE_DATE_EPOCH    creation time (seconds): same inputs, same bytes`;

const DIFF_HELP = `Usage: vouch sbom diff <A> <B> [--json]

Compares two SBOMs (CycloneDX or SPDX JSON, any mix) by package (purl without
version): added, removed, changed version or licence. Timestamps, serial
numbers and tool metadata are not compared.
Exit codes: 0 same packages, 1 different, 2 bad input.`;

/** Skipped entries printed per file before "… and N more". */
const MAX_SKIPPED_SHOWN = 20;

export const sbomCommand: Command = {
  name: 'sbom',
  help: HELP,
  async run(argv, io) {
    if (argv[0] === 'diff') return diff(argv.slice(1), io);
    const { values, positionals } = parse('sbom', argv, {
      format: { type: 'string', default: FORMATS[0]?.name },
      output: { type: 'string', short: 'o' },
      'allow-partial': { type: 'boolean' },
      ignore: { type: 'string', multiple: true },
      attest: { type: 'boolean' },
      subject: { type: 'string' },
      ...SIGNING_OPTIONS,
      ...PUBLISH_OPTIONS,
    });
    if (values.help) {
      io.stdout(`${HELP}\n`);
      return 0;
    }
    if (positionals.length !== 1)
      throw usage('sbom', 'give exactly one directory, lockfile or image');
    const format = formatByName(values.format ?? '');
    const target = await detectTarget(resolve(io.cwd, positionals[0] as string));
    if (!values.attest) {
      const stray = ['subject', 'key', 'keyless', 'identity-token', 'out', 'no-store'].filter(
        (k) => values[k as keyof typeof values] !== undefined,
      );
      if (stray.length > 0) throw usage('sbom', `--${stray[0]} is for --attest`);
    } else if (values.subject === undefined && target.kind !== 'image') {
      throw usage('sbom', '--attest needs --subject FILE: a directory or lockfile has no digest');
    }
    // Load the key (and ask for its passphrase) before the scan, not after it.
    const mode = values.attest ? await signingModeFrom('sbom', values, io) : undefined;
    const subjectFile = values.subject ? await fileSubject(values.subject, io.cwd) : undefined;

    const sbom = await generateSbom(target.path, {
      allowPartial: values['allow-partial'] ?? false,
      ignore: values.ignore ?? [],
      created: sbomCreated(io.env),
    });
    const rendered = renderSbom(sbom, format.name);
    report(sbom.accounting, io);
    const totals = totalsOf(sbom);
    const where = displayPath(target.path, io.cwd);
    if (totals.files === 0) {
      io.stderr(`vouch sbom: warning: no lockfile or package database found in ${where}\n`);
    }
    io.stderr(
      `vouch sbom: total: ${totals.files} file(s), declared ${totals.declared}, emitted ${totals.components} components (merged ${totals.merged}, skipped ${totals.skipped})\n`,
    );
    if (totals.skipped > 0) {
      io.stderr(
        `vouch sbom: warning: ${totals.skipped} entr${totals.skipped === 1 ? 'y' : 'ies'} skipped: the SBOM does not list them (reasons above)\n`,
      );
    }
    if (totals.failed > 0) {
      io.stderr(
        `vouch sbom: warning: ${totals.failed} file(s) could not be read (--allow-partial): the SBOM is incomplete\n`,
      );
    }

    if (values.output) {
      await writeFileAtomic(resolve(io.cwd, values.output), rendered.text);
      io.stderr(`vouch sbom: wrote ${values.output} (${rendered.format})\n`);
    } else if (!values.json) {
      io.stdout(rendered.text);
    }

    let bundle: Awaited<ReturnType<typeof signAndPublish>> | null = null;
    let subject: Subject | null = null;
    if (mode) {
      subject = subjectFile ?? imageSubject(sbom.subject);
      bundle = await signAndPublish(sbomStatement(rendered, subject), mode, values, io);
      io.stderr(
        `vouch sbom: attested ${rendered.predicateType} about ${subject.name} sha256:${subject.digest.sha256}\n`,
      );
      if (bundle.stored) io.stderr(`vouch sbom: stored ${bundle.stored.path}\n`);
      if (bundle.out) io.stderr(`vouch sbom: wrote ${bundle.out}\n`);
    }

    if (values.json) {
      const summary: Record<string, unknown> = {
        subject: sbom.subject,
        format: rendered.format,
        predicateType: rendered.predicateType,
        output: values.output ?? null,
        complete: isComplete(sbom),
        totals,
        accounting: sbom.accounting,
        attestation: bundle ? { subject, bundle } : null,
      };
      if (!values.output) summary.document = rendered.document;
      printJson(io, summary);
    }
    return 0;
  },
};

/** Per file: `file: reader format: declared N, emitted M, merged K, skipped S`, then reasons. */
function report(accounting: readonly Accounting[], io: Io): void {
  for (const a of accounting) {
    if (isFailed(a)) {
      io.stderr(`vouch sbom: warning: ${a.file}: ${a.reader}: ${a.incompleteReason}\n`);
      continue;
    }
    io.stderr(
      `vouch sbom: ${a.file}: ${a.reader} ${a.format}: declared ${a.declared}, emitted ${a.emitted}, merged ${a.merged}, skipped ${a.skipped.length}\n`,
    );
    for (const s of a.skipped.slice(0, MAX_SKIPPED_SHOWN)) {
      io.stderr(`vouch sbom:   skipped ${JSON.stringify(s.entry)}: ${s.reason}\n`);
    }
    if (a.skipped.length > MAX_SKIPPED_SHOWN) {
      io.stderr(
        `vouch sbom:   … and ${a.skipped.length - MAX_SKIPPED_SHOWN} more skipped (all in --json)\n`,
      );
    }
    if (a.incomplete) {
      io.stderr(`vouch sbom: note: ${a.file} is incomplete by nature: ${a.incompleteReason}\n`);
    }
  }
}

function imageSubject(s: { name: string; digest?: { sha256: string } }): Subject {
  if (!s.digest) throw usage('sbom', '--attest needs --subject FILE');
  return { name: s.name, digest: { sha256: s.digest.sha256 } };
}

async function diff(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parse('sbom diff', argv, {});
  if (values.help) {
    io.stdout(`${DIFF_HELP}\n`);
    return 0;
  }
  if (positionals.length !== 2) throw usage('sbom diff', 'give two SBOM files');
  const [a, b] = positionals as [string, string];
  const result = diffSboms(
    await readJsonFile(resolve(io.cwd, a)),
    await readJsonFile(resolve(io.cwd, b)),
    [a, b],
  );
  if (values.json) printJson(io, result);
  else io.stdout(renderDiff(result));
  return result.identical ? 0 : 1;
}

function renderDiff(d: SbomDiff): string {
  const id = (c: DiffComponent) => c.purl ?? `${c.name}@${c.version}`;
  const lic = (c: DiffComponent) => (c.licenses.length > 0 ? c.licenses.join(' AND ') : 'none');
  const lines: string[] = [];
  for (const c of d.removed) lines.push(`- ${id(c)}`);
  for (const c of d.added) lines.push(`+ ${id(c)}${c.licenses.length > 0 ? `  (${lic(c)})` : ''}`);
  for (const c of d.changed) {
    const parts: string[] = [];
    if (c.version) parts.push(`${c.from.version} -> ${c.to.version}`);
    if (c.licenses) parts.push(`licence ${lic(c.from)} -> ${lic(c.to)}`);
    if (c.sources) {
      const src = (x: DiffComponent) => (x.sources.length > 0 ? x.sources.join(' ') : 'none');
      parts.push(`sources ${src(c.from)} -> ${src(c.to)}`);
    }
    lines.push(`~ ${c.key}${c.version ? '' : `@${c.to.version}`}  ${parts.join(', ')}`);
  }
  // One list in package order, whatever the kind of change.
  lines.sort((x, y) => (x.slice(2) < y.slice(2) ? -1 : x.slice(2) > y.slice(2) ? 1 : 0));
  lines.push(
    `${d.added.length} added, ${d.removed.length} removed, ${d.changed.length} changed, ${d.unchanged} unchanged`,
  );
  return `${lines.join('\n')}\n`;
}
