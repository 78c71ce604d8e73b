/**
 * Test helpers for the Python, Go, Java, Rust, Ruby, PHP and .NET readers:
 * SourceFiles over real files or bytes, and the checks every reader test
 * makes (accounting identity, unique refs, edges between known refs).
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { SHARED } from '../../../test/shared.ts';
import type { Component, ReaderResult } from '../model.ts';
import type { SourceFile } from '../reader.ts';

export const VECTORS = `${SHARED}/vectors/sbom`;

/** A SourceFile over an absolute path, named by its base name (as if scanned from its folder). */
export function fileAt(abs: string, name = basename(abs)): SourceFile {
  return {
    path: name,
    bytes: () => readFile(abs),
    sibling: async (n) => {
      try {
        return await readFile(join(dirname(abs), n));
      } catch {
        return undefined;
      }
    },
  };
}

/** A SourceFile over bytes in memory, with siblings by relative name. */
export function fileOf(
  name: string,
  content: string | Buffer,
  siblings: Record<string, string | Buffer> = {},
): SourceFile {
  return {
    path: name,
    bytes: async () => Buffer.from(content),
    sibling: async (n) => {
      const v = siblings[n];
      return v === undefined ? undefined : Buffer.from(v);
    },
  };
}

/** The invariants of every reader result. */
export function checkResult(r: ReaderResult): void {
  const a = r.accounting;
  assert.equal(
    a.declared,
    a.emitted + a.merged + a.skipped.length,
    'declared = emitted + merged + skipped',
  );
  assert.equal(a.emitted, r.components.length);
  const refs = new Set(r.components.map((c) => c.ref));
  assert.equal(refs.size, r.components.length, 'refs are unique');
  for (const d of r.dependencies) {
    assert.ok(refs.has(d.ref), `edge from unknown ref ${d.ref}`);
    for (const t of d.dependsOn) assert.ok(refs.has(t), `edge to unknown ref ${t}`);
  }
  for (const root of r.roots) assert.ok(refs.has(root), `unknown root ${root}`);
  for (const c of r.components) for (const h of c.hashes) assert.match(h.value, /^[0-9a-f]+$/);
}

export function byPurl(r: ReaderResult, purl: string): Component {
  const c = r.components.find((x) => x.purl === purl);
  assert.ok(c, `no component ${purl}`);
  return c;
}

/** Asserts that `p` rejects with a VouchError of this code whose message names `file`. */
export async function rejectsWith(
  p: Promise<unknown>,
  code: string,
  file: string,
  more?: RegExp,
): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    const err = e as { code?: string; message?: string };
    assert.equal(err.code, code, err.message);
    assert.ok(err.message?.includes(file), `message names ${file}: ${err.message}`);
    if (more) assert.match(err.message ?? '', more);
    return true;
  });
}
