/**
 * The standard library compiled into a Go binary, from the toolchain version
 * its build info records (runtime.Version(): `go1.22.8`, `go1.21rc2`,
 * `go1.22.8 X:boringcrypto`, `devel go1.23-abc123 Tue Jan 2 …`).
 *
 * Go's vulnerability database names the standard library `stdlib` in the
 * `Go` ecosystem, with SemVer versions and no `go` prefix (`1.22.8`,
 * `1.21.0-rc.2`, `1.20.0` for the tag `go1.20`), converted from tags the way
 * golang/vulndb's GoTagToSemver does. The component gets that version, so a
 * stdlib advisory's ranges (`introduced: 1.21.0-0`, `fixed: 1.21.3`) apply
 * to it as written; the toolchain string itself is kept as a property.
 *
 * A toolchain that is not a release (a `devel` build from a commit between
 * releases, or a string of no known form) has no standard-library version:
 * the component is emitted without one and says why, never with a guess.
 */

/** The stdlib version of a toolchain, or why there is none. */
export type StdlibVersion = { ok: true; version: string } | { ok: false; reason: string };

/**
 * `go1`, `go1.20`, `go1.22.8`, `go1.21rc2`, `go1.19beta1`, `go1.9.2rc2`;
 * a vendor suffix after `-` (`go1.21.0-bigcorp`, which go/version allows) is
 * the same release with the vendor's patches. No leading zeros; `go1.0` was
 * never a tag (Go 1 is `go1`).
 */
const TAG =
  /^go1(?:\.(0|[1-9]\d{0,3})(?:\.(0|[1-9]\d{0,3}))?)?(?:(beta|rc)([1-9]\d{0,3}))?(?:-[A-Za-z0-9][A-Za-z0-9._-]{0,63})?$/;

/** The SemVer form OSV's Go data uses for the standard library at `toolchain`. */
export function stdlibVersion(toolchain: string): StdlibVersion {
  // Experiments (` X:boringcrypto`) and vendor notes follow the tag after a space.
  const tag = toolchain.trim().split(/\s+/)[0] ?? '';
  if (tag === 'devel') {
    return {
      ok: false,
      reason:
        'development toolchain (built from a commit, not a release): no standard-library version',
    };
  }
  const m = TAG.exec(tag);
  if (!m || (m[1] === '0' && m[2] === undefined) || (m[1] === undefined && m[3] !== undefined)) {
    return {
      ok: false,
      reason: `toolchain version ${JSON.stringify(tag)} is of no form Go releases use`,
    };
  }
  const [, minor, patch, pre, n] = m;
  let version = `1.${minor ?? '0'}.${patch ?? '0'}`;
  if (pre) version += `-${pre}.${n}`;
  return { ok: true, version };
}
