import { join } from 'node:path';
import { errorMessage, VouchError } from '../../core/errors.ts';
import { parseJson, readTextFile } from '../../core/json.ts';
import { checkInspectionTimeout, runInspection } from './inspect.ts';
import { type IntotoPublicKey, keyFromDict } from './keys.ts';
import {
  type Artifacts,
  type Layout,
  type Link,
  metadataType,
  parseLayout,
  parseLink,
  parseSignedMetadata,
  type SignedMetadata,
  signedBy,
} from './model.ts';
import { applyRules } from './rules.ts';

/**
 * What to do about a layout's inspections, which run commands from the
 * layout on the verifier's machine. Without `run`, a layout with inspections
 * cannot pass: skipping them is a separate, insecure choice.
 */
export type InspectionMode =
  | { mode: 'refuse' }
  | {
      mode: 'run';
      workdir: string;
      /** Seconds each inspection may run before it and its children are killed; default 10 (in-toto's). */
      timeoutSeconds?: number;
    }
  | { mode: 'insecure-skip' };

export interface IntotoVerifyOptions {
  /** Path of the root layout (Metablock or DSSE envelope). */
  layoutPath: string;
  /** The project owner's keys: each one must have signed the layout. */
  layoutKeys: readonly IntotoPublicKey[];
  /** Where `<step>.<keyid8>.link` files (and sublayout directories) are. */
  linkDir: string;
  /** The verification time, compared with `expires` (an explicit clock, never implicit). */
  at: Date;
  inspections: InspectionMode;
  log?: (message: string) => void;
}

/** One named check, passed or failed, with its reason. */
export interface IntotoCheck {
  name: string;
  ok: boolean;
  detail: string;
}

export interface IntotoVerdict {
  ok: boolean;
  layout: string;
  envelope: 'metablock' | 'dsse';
  expires: string | undefined;
  at: string;
  /** Every check made, in order; `ok` is true only when every one passed. */
  checks: IntotoCheck[];
  /** Things the spec says to report but not fail on (command alignment, skipped inspections). */
  warnings: string[];
  /** First step's materials and last step's products, as in-toto's summary link. */
  summary: { materials: Artifacts; products: Artifacts } | null;
}

/**
 * Verifies an in-toto layout and its links (in-toto spec v0.9 §5): the
 * owner's signatures, expiry, per step `threshold` links signed by distinct
 * authorized functionaries (recursing into sublayouts), agreement between
 * those links, every step's and inspection's artifact rules, and
 * inspections when asked to run them. Collects every failure instead of
 * stopping at the first; command mismatches are warnings, as the spec says.
 *
 * @throws VouchError FILE_NOT_FOUND | FILE_READ | JSON_* | DSSE_* | KEY_* for an
 *   unreadable or malformed root layout (links that are malformed are failures);
 *   USAGE for an inspection timeout out of range
 */
export async function verifyIntotoLayout(options: IntotoVerifyOptions): Promise<IntotoVerdict> {
  if (options.inspections.mode === 'run' && options.inspections.timeoutSeconds !== undefined) {
    checkInspectionTimeout(options.inspections.timeoutSeconds);
  }
  const text = await readTextFile(options.layoutPath);
  const metadata = parseSignedMetadata(parseJson(text, options.layoutPath), options.layoutPath);
  if (metadataType(metadata) !== 'layout') {
    throw new VouchError(
      'JSON_MALFORMED',
      'in-toto metadata: not a layout (_type is not "layout")',
      {
        file: options.layoutPath,
        field: '/_type',
      },
    );
  }
  // A root layout that is not a layout is bad input, not a verification failure.
  const layout = parseLayout(metadata.signed, options.layoutPath, keyFromDict);
  const ctx: Context = {
    checks: [],
    warnings: [],
    at: options.at.getTime(),
    inspections: options.inspections,
    log: options.log ?? (() => {}),
  };
  const result = await verifyLayout(metadata, layout, options.layoutKeys, options.linkDir, ctx, '');
  return {
    ok: ctx.checks.every((c) => c.ok),
    layout: options.layoutPath,
    envelope: metadata.envelope,
    expires: layout.expires,
    at: options.at.toISOString(),
    checks: ctx.checks,
    warnings: ctx.warnings,
    summary: result ? { materials: result.materials, products: result.products } : null,
  };
}

interface Context {
  checks: IntotoCheck[];
  warnings: string[];
  at: number;
  inspections: InspectionMode;
  log: (m: string) => void;
}

/** The link file name in-toto uses: `<step>.<first 8 hex of keyid>.link`. */
export function linkFileName(step: string, keyid: string): string {
  return `${step}.${keyid.slice(0, 8)}.link`;
}

/**
 * Verifies one layout; returns its summary link when every check of this
 * layout passed, undefined otherwise (the failures are in ctx.checks).
 */
async function verifyLayout(
  metadata: SignedMetadata,
  layout: Layout,
  ownerKeys: readonly IntotoPublicKey[],
  linkDir: string,
  ctx: Context,
  prefix: string,
): Promise<Link | undefined> {
  const firstCheck = ctx.checks.length;
  const check = (name: string, ok: boolean, detail: string) => {
    ctx.checks.push({ name: `${prefix}${name}`, ok, detail });
  };
  const failedSince = () => ctx.checks.slice(firstCheck).some((c) => !c.ok);

  // 1. The owner's signatures: every given key must have signed (in-toto-verify's rule).
  if (ownerKeys.length === 0) check('layout signature', false, 'no layout key given');
  for (const key of ownerKeys) {
    const ok = signedBy(metadata, key);
    check(
      'layout signature',
      ok,
      ok
        ? `signed by ${key.keyid} (${metadata.envelope})`
        : `no valid ${metadata.envelope} signature by ${key.keyid} (${key.scheme})`,
    );
  }
  const trusted = !failedSince();

  // 2. Expiry, against the explicit verification time.
  const expired = ctx.at > layout.expiresAt;
  check(
    'layout expiry',
    !expired,
    expired
      ? `expired ${layout.expires} (verification time ${new Date(ctx.at).toISOString()})`
      : `valid until ${layout.expires}`,
  );

  // 3-5. Links: signatures by authorized functionaries, sublayouts, thresholds.
  const verified = new Map<string, Link[]>();
  for (const step of layout.steps) {
    verified.set(step.name, await verifyStepLinks(step, layout, linkDir, ctx, prefix, check));
  }

  // 6. Command alignment is reported, never enforced (spec §4.3.1).
  for (const step of layout.steps) {
    for (const link of verified.get(step.name) ?? []) {
      if (step.expectedCommand.length > 0 && !sameList(link.command, step.expectedCommand)) {
        ctx.warnings.push(
          `${prefix}step ${step.name}: command ${JSON.stringify(link.command)} differs from expected ${JSON.stringify(step.expectedCommand)}`,
        );
      }
    }
  }

  // 7. Links of one step must agree on what they saw; then one link per step.
  const reduced = new Map<string, Link>();
  for (const step of layout.steps) {
    const links = verified.get(step.name) ?? [];
    const first = links[0];
    if (!first) continue;
    if (step.threshold > 1) {
      const disagree = links.filter(
        (l) => !sameJson(l.materials, first.materials) || !sameJson(l.products, first.products),
      );
      check(
        `step ${step.name}: links agree`,
        disagree.length === 0,
        disagree.length === 0
          ? `${links.length} links record the same materials and products`
          : `${disagree.length + 1} of ${links.length} links record different materials or products`,
      );
    }
    reduced.set(step.name, first);
  }

  // 8. Step artifact rules.
  for (const step of layout.steps) {
    const link = reduced.get(step.name);
    if (!link) continue;
    for (const kind of ['materials', 'products'] as const) {
      const rules = kind === 'materials' ? step.expectedMaterials : step.expectedProducts;
      const outcome = applyRules(step.name, kind, rules, link, reduced);
      check(
        `step ${step.name}: expected_${kind}`,
        outcome.failures.length === 0,
        outcome.failures.length === 0
          ? `${rules.length} rule(s) passed`
          : outcome.failures.join('; '),
      );
    }
  }

  // 9-10. Inspections: only with an explicit mode, only for a trusted, valid, so-far-passing layout.
  const combined = new Map(reduced);
  if (layout.inspections.length > 0) {
    const names = layout.inspections.map((i) => i.name).join(', ');
    switch (ctx.inspections.mode) {
      case 'refuse':
        check(
          'inspections',
          false,
          `not run: the layout's inspections (${names}) run commands; pass --run-inspections to run them`,
        );
        break;
      case 'insecure-skip':
        ctx.warnings.push(`${prefix}inspections skipped (insecure): ${names}`);
        break;
      case 'run': {
        // Any failure anywhere (an untrusted root above a sublayout included) stops commands.
        if (!trusted || expired || ctx.checks.some((c) => !c.ok)) {
          check('inspections', false, `not run (${names}): earlier checks failed`);
          break;
        }
        for (const inspection of layout.inspections) {
          const name = `inspection ${inspection.name}`;
          if (inspection.run.length === 0) {
            check(name, false, 'has no command to run');
            continue;
          }
          ctx.log(`running inspection ${inspection.name}: ${inspection.run.join(' ')}\n`);
          try {
            const run = await runInspection(
              inspection.name,
              inspection.run,
              ctx.inspections.workdir,
              ctx.log,
              ctx.inspections.timeoutSeconds === undefined
                ? {}
                : { timeoutSeconds: ctx.inspections.timeoutSeconds },
            );
            if (run.timedOut || !run.link) {
              check(
                name,
                false,
                `timed out after ${run.timeoutSeconds} s: ${JSON.stringify(inspection.run)} and every process it started were killed`,
              );
              continue;
            }
            check(
              name,
              run.exitCode === 0,
              run.exitCode === 0
                ? `${JSON.stringify(inspection.run)} exited 0`
                : `${JSON.stringify(inspection.run)} exited ${run.exitCode}`,
            );
            combined.set(inspection.name, run.link);
          } catch (e) {
            check(
              name,
              false,
              `could not run ${JSON.stringify(inspection.run)}: ${errorMessage(e)}`,
            );
          }
        }
        for (const inspection of layout.inspections) {
          const link = combined.get(inspection.name);
          if (!link) continue;
          for (const kind of ['materials', 'products'] as const) {
            const rules =
              kind === 'materials' ? inspection.expectedMaterials : inspection.expectedProducts;
            const outcome = applyRules(inspection.name, kind, rules, link, combined);
            check(
              `inspection ${inspection.name}: expected_${kind}`,
              outcome.failures.length === 0,
              outcome.failures.length === 0
                ? `${rules.length} rule(s) passed`
                : outcome.failures.join('; '),
            );
          }
        }
        break;
      }
      default:
        assertNever(ctx.inspections);
    }
  }

  if (failedSince()) return undefined;
  return summaryLink(layout, reduced);
}

type CheckFn = (name: string, ok: boolean, detail: string) => void;

/**
 * Loads `<step>.<keyid8>.link` for every authorized key id and keeps the
 * links validly signed by that key (sublayouts verified recursively and
 * replaced by their summary link). Checks the step's threshold over distinct
 * public keys, so one key listed under two ids counts once.
 */
async function verifyStepLinks(
  step: Layout['steps'][number],
  layout: Layout,
  linkDir: string,
  ctx: Context,
  prefix: string,
  check: CheckFn,
): Promise<Link[]> {
  const good: Link[] = [];
  const fingerprints = new Set<string>();
  const notes: string[] = [];
  for (const keyid of [...new Set(step.pubkeys)]) {
    const file = join(linkDir, linkFileName(step.name, keyid));
    const key = layout.keys.get(keyid);
    if (!key) {
      notes.push(`key ${keyid.slice(0, 8)} is not in the layout's keys`);
      continue;
    }
    let text: string;
    try {
      text = await readTextFile(file);
    } catch (e) {
      if (e instanceof VouchError && e.code === 'FILE_NOT_FOUND') continue; // authorized, not required
      notes.push(`${linkFileName(step.name, keyid)}: ${errorMessage(e)}`);
      continue;
    }
    let metadata: SignedMetadata;
    try {
      metadata = parseSignedMetadata(parseJson(text, file), file);
    } catch (e) {
      notes.push(`${linkFileName(step.name, keyid)}: malformed: ${errorMessage(e)}`);
      continue;
    }
    if (!signedBy(metadata, key)) {
      notes.push(`${linkFileName(step.name, keyid)}: no valid signature by ${keyid}`);
      continue;
    }
    let link: Link | undefined;
    const type = metadataType(metadata);
    try {
      if (type === 'layout') {
        const sub = parseLayout(metadata.signed, file, keyFromDict);
        const subDir = join(linkDir, `${step.name}.${keyid.slice(0, 8)}`);
        const subPrefix = `${prefix}sublayout ${step.name}.${keyid.slice(0, 8)}: `;
        const summary = await verifyLayout(metadata, sub, [key], subDir, ctx, subPrefix);
        if (!summary) {
          notes.push(`${linkFileName(step.name, keyid)}: sublayout failed verification`);
          continue;
        }
        link = { ...summary, name: step.name };
      } else {
        link = parseLink(metadata.signed, file);
        if (link.name !== step.name) {
          notes.push(
            `${linkFileName(step.name, keyid)}: the link is for step ${JSON.stringify(link.name)}`,
          );
          continue;
        }
      }
    } catch (e) {
      notes.push(`${linkFileName(step.name, keyid)}: malformed: ${errorMessage(e)}`);
      continue;
    }
    if (fingerprints.has(key.fingerprint)) {
      notes.push(
        `${linkFileName(step.name, keyid)}: same public key as another link, counted once`,
      );
      continue;
    }
    fingerprints.add(key.fingerprint);
    good.push(link);
  }
  const ok = good.length >= step.threshold;
  const found = `${good.length} of ${step.threshold} required link(s) validly signed by distinct authorized functionaries`;
  check(
    `step ${step.name}: threshold`,
    ok,
    notes.length > 0 ? `${found} (${notes.join('; ')})` : found,
  );
  return good;
}

/** in-toto's get_summary_link: first step's materials, last step's products and command. */
function summaryLink(layout: Layout, reduced: ReadonlyMap<string, Link>): Link {
  const first = layout.steps[0] ? reduced.get(layout.steps[0].name) : undefined;
  const last = layout.steps.at(-1)
    ? reduced.get((layout.steps.at(-1) as { name: string }).name)
    : undefined;
  return {
    _type: 'link',
    name: '',
    command: last?.command ?? [],
    materials: first?.materials ?? {},
    products: last?.products ?? {},
    byproducts: last?.byproducts ?? {},
    environment: {},
  };
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function sameJson(a: Artifacts, b: Artifacts): boolean {
  const norm = (x: Artifacts) =>
    JSON.stringify(
      Object.keys(x)
        .sort()
        .map((k) => [k, Object.entries(x[k] ?? {}).sort()]),
    );
  return norm(a) === norm(b);
}

function assertNever(x: never): never {
  throw new Error(`unreachable: ${JSON.stringify(x)}`);
}
