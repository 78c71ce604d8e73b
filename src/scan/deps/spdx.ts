/**
 * SPDX licence expressions (SPDX spec annex D): ids, `+`, `WITH`, `AND`,
 * `OR` and parentheses, AND binding tighter than OR. Enough to decide whether
 * some choice the expression offers satisfies a policy.
 */
export type LicenseExpr =
  | { kind: 'id'; id: string; exception?: string }
  | { kind: 'and' | 'or'; left: LicenseExpr; right: LicenseExpr };

/** @returns the expression, or undefined when `text` is not a valid expression. */
export function parseLicenseExpression(text: string): LicenseExpr | undefined {
  const tokens = text.match(/\(|\)|[A-Za-z0-9.+:-]+/g);
  if (!tokens || tokens.join('').length !== text.replace(/\s+/g, '').length) return undefined;
  let i = 0;
  const peek = () => tokens[i];
  const isOp = (t: string | undefined, op: string) => t !== undefined && t.toUpperCase() === op;
  const primary = (): LicenseExpr | undefined => {
    const t = tokens[i++];
    if (t === undefined) return undefined;
    if (t === '(') {
      const e = or();
      if (tokens[i++] !== ')') return undefined;
      return e;
    }
    if (t === ')' || isOp(t, 'AND') || isOp(t, 'OR') || isOp(t, 'WITH')) return undefined;
    if (isOp(peek(), 'WITH')) {
      i++;
      const ex = tokens[i++];
      if (ex === undefined || ex === '(' || ex === ')') return undefined;
      return { kind: 'id', id: t, exception: ex };
    }
    return { kind: 'id', id: t };
  };
  const and = (): LicenseExpr | undefined => {
    let left = primary();
    while (left && isOp(peek(), 'AND')) {
      i++;
      const right = primary();
      if (!right) return undefined;
      left = { kind: 'and', left, right };
    }
    return left;
  };
  const or = (): LicenseExpr | undefined => {
    let left = and();
    while (left && isOp(peek(), 'OR')) {
      i++;
      const right = and();
      if (!right) return undefined;
      left = { kind: 'or', left, right };
    }
    return left;
  };
  const e = or();
  return e && i === tokens.length ? e : undefined;
}

/**
 * True when some choice the expression offers uses only licences `ok` accepts:
 * OR needs one side, AND needs both.
 */
export function satisfiable(e: LicenseExpr, ok: (id: string) => boolean): boolean {
  switch (e.kind) {
    case 'id':
      return ok(e.id);
    case 'and':
      return satisfiable(e.left, ok) && satisfiable(e.right, ok);
    case 'or':
      return satisfiable(e.left, ok) || satisfiable(e.right, ok);
  }
}
