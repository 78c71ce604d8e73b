import {
  type CelInput,
  CelScalar,
  celEnv,
  celFunc,
  isCelError,
  isCelList,
  isCelMap,
  listType,
  mapType,
  parse,
  plan,
} from '@bufbuild/cel';
import { errorMessage } from '../core/errors.ts';

/**
 * `where` expressions: CEL (cel-es, which runs the cel-spec conformance
 * tests) over the verified predicate. Two things make them safe to run on
 * evidence from anyone a policy trusts:
 *
 * - Static limits, checked once when the policy is read: the text is at most
 *   {@link MAX_EXPRESSION_LENGTH} characters, the syntax tree at most
 *   {@link MAX_NODES} nodes, comprehensions (`all`, `exists`, `map`,
 *   `filter`…) nested at most {@link MAX_COMPREHENSION_DEPTH} deep.
 * - A deterministic cost budget, no clock: every comprehension's range is
 *   wrapped in a call that charges `size(range) × (nodes in the loop body)`
 *   before the loop runs, so the total work of one evaluation is bounded by
 *   {@link COST_LIMIT} node evaluations whatever the input (a chain of
 *   `.map(x, x + x)` doubling a list runs out of budget, it does not hang).
 *   Going over the budget is an error, and an error denies, even where CEL's
 *   `||` would have absorbed it.
 *
 * Regular expressions (`matches`) use cel-es's RE2 port, which runs in linear
 * time (no backtracking, no back-references), so they need no extra limit.
 */
export const MAX_EXPRESSION_LENGTH = 4096;
export const MAX_NODES = 1000;
export const MAX_COMPREHENSION_DEPTH = 3;
export const COST_LIMIT = 1_000_000;

const COST_FUNCTION = 'vouch.cost';

export interface CompiledWhere {
  /** The expression as written. */
  text: string;
  /** Evaluates to a boolean verdict; never throws. */
  evaluate(bindings: WhereBindings): WhereResult;
}

export interface WhereBindings {
  predicate: unknown;
  statement: unknown;
  subject: unknown;
  signers: unknown;
  /** RFC 3339; use `timestamp(now)` in expressions. */
  now: string;
}

export type WhereResult = { ok: true; value: boolean } | { ok: false; error: string };

/** Compiles a `where` expression, or says why it is refused. */
export function compileWhere(
  text: string,
): { ok: true; where: CompiledWhere } | { ok: false; error: string } {
  if (text.length > MAX_EXPRESSION_LENGTH)
    return { ok: false, error: `expression longer than ${MAX_EXPRESSION_LENGTH} characters` };
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(text);
  } catch (e) {
    return { ok: false, error: `CEL syntax error: ${firstLine(errorMessage(e))}` };
  }
  const stats: Stats = { nodes: 0, maxDepth: 0, nextId: 1_000_000, idents: new Set() };
  try {
    instrument(parsed.expr, 0, stats);
  } catch (e) {
    return { ok: false, error: errorMessage(e) };
  }
  if (stats.nodes > MAX_NODES)
    return { ok: false, error: `expression has ${stats.nodes} nodes, more than ${MAX_NODES}` };
  if (stats.maxDepth > MAX_COMPREHENSION_DEPTH) {
    return {
      ok: false,
      error: `comprehensions nested ${stats.maxDepth} deep, more than ${MAX_COMPREHENSION_DEPTH}`,
    };
  }
  const budget = { spent: 0, exceeded: false };
  const charge = (size: number, weight: bigint) => {
    budget.spent += size * Number(weight);
    if (budget.spent > COST_LIMIT) {
      budget.exceeded = true;
      throw new Error(`evaluation cost over the limit of ${COST_LIMIT}`);
    }
  };
  const env = celEnv({
    funcs: [
      celFunc(
        COST_FUNCTION,
        [listType(CelScalar.DYN), CelScalar.INT],
        listType(CelScalar.DYN),
        (list, weight) => {
          charge(list.size, weight);
          return list;
        },
      ),
      celFunc(
        COST_FUNCTION,
        [mapType(CelScalar.DYN, CelScalar.DYN), CelScalar.INT],
        mapType(CelScalar.DYN, CelScalar.DYN),
        (map, weight) => {
          charge(map.size, weight);
          return map;
        },
      ),
    ],
  });
  // Only the bindings the expression names are converted to CEL values: the
  // conversion copies the whole value, and a `where` over `predicate.x`
  // would otherwise convert the statement (predicate again included) too.
  const reads = (name: string) => stats.idents.has(name);
  const readsPredicate = reads('predicate');
  const readsStatement = reads('statement');
  const readsSubject = reads('subject');
  const readsSigners = reads('signers');
  let run: ReturnType<typeof plan>;
  try {
    run = plan(env, parsed);
  } catch (e) {
    return { ok: false, error: `CEL: ${firstLine(errorMessage(e))}` };
  }
  return {
    ok: true,
    where: {
      text,
      evaluate(bindings) {
        budget.spent = 0;
        budget.exceeded = false;
        try {
          const input: Record<string, CelInput> = { now: bindings.now };
          if (readsPredicate) input.predicate = toCel(bindings.predicate, 0);
          if (readsStatement) input.statement = toCel(bindings.statement, 0);
          if (readsSubject) input.subject = toCel(bindings.subject, 0);
          if (readsSigners) input.signers = toCel(bindings.signers, 0);
          const value = run(input);
          if (budget.exceeded)
            return { ok: false, error: `evaluation cost over the limit of ${COST_LIMIT}` };
          if (isCelError(value)) return { ok: false, error: firstLine(value.message) };
          if (typeof value !== 'boolean') {
            return { ok: false, error: `expression is not a boolean (got ${describe(value)})` };
          }
          return { ok: true, value };
        } catch (e) {
          return { ok: false, error: firstLine(errorMessage(e)) };
        }
      },
    },
  };
}

// biome-ignore lint/suspicious/noExplicitAny: protobuf-es Expr messages, walked generically
type Expr = any;

interface Stats {
  nodes: number;
  maxDepth: number;
  nextId: number;
  /** First segment of every identifier the expression reads (`a` of `a.b.c`, leading dot dropped). */
  idents: Set<string>;
}

/**
 * Counts nodes and comprehension depth, collects the identifiers read, and
 * wraps every comprehension range in the cost call.
 */
function instrument(expr: Expr, depth: number, stats: Stats): number {
  if (expr === undefined || expr === null) return 0;
  stats.nodes++;
  if (stats.nodes > MAX_NODES * 4) throw new Error(`expression has more than ${MAX_NODES} nodes`);
  const kind = expr.exprKind?.case as string | undefined;
  const v = expr.exprKind?.value;
  let n = 1;
  switch (kind) {
    case 'callExpr':
      if (v.target) n += instrument(v.target, depth, stats);
      for (const a of v.args) n += instrument(a, depth, stats);
      return n;
    case 'listExpr':
      for (const e of v.elements) n += instrument(e, depth, stats);
      return n;
    case 'structExpr':
      for (const e of v.entries) {
        if (e.keyKind?.case === 'mapKey') n += instrument(e.keyKind.value, depth, stats);
        n += instrument(e.value, depth, stats);
      }
      return n;
    case 'selectExpr':
      return n + instrument(v.operand, depth, stats);
    case 'identExpr': {
      const name = String(v.name).replace(/^\./, '');
      stats.idents.add(name.split('.')[0] as string);
      return n;
    }
    case 'comprehensionExpr': {
      const inner = depth + 1;
      stats.maxDepth = Math.max(stats.maxDepth, inner);
      n += instrument(v.iterRange, depth, stats);
      n += instrument(v.accuInit, depth, stats);
      const body = instrument(v.loopCondition, inner, stats) + instrument(v.loopStep, inner, stats);
      n += body + instrument(v.result, depth, stats);
      const idType = typeof expr.id;
      const id = (x: number) => (idType === 'bigint' ? BigInt(x) : x);
      v.iterRange = {
        $typeName: 'cel.expr.Expr',
        id: id(stats.nextId++),
        exprKind: {
          case: 'callExpr',
          value: {
            $typeName: 'cel.expr.Expr.Call',
            function: COST_FUNCTION,
            args: [
              v.iterRange,
              {
                $typeName: 'cel.expr.Expr',
                id: id(stats.nextId++),
                exprKind: {
                  case: 'constExpr',
                  value: {
                    $typeName: 'cel.expr.Constant',
                    constantKind: { case: 'int64Value', value: BigInt(Math.max(1, body)) },
                  },
                },
              },
            ],
          },
        },
      };
      return n;
    }
    default:
      return n;
  }
}

const MAX_INPUT_DEPTH = 64;

/**
 * JSON to CEL input: objects become Maps (never plain objects, so no
 * prototype is reachable), integers stay doubles as JSON numbers are.
 */
function toCel(v: unknown, depth: number): CelInput {
  if (depth > MAX_INPUT_DEPTH) throw new Error('input nested too deep for CEL');
  if (v === null || v === undefined) return null;
  if (Array.isArray(v)) return v.map((x) => toCel(x, depth + 1));
  if (typeof v === 'object') {
    const m = new Map<string, CelInput>();
    for (const [k, x] of Object.entries(v as Record<string, unknown>))
      m.set(k, toCel(x, depth + 1));
    return m;
  }
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  return String(v);
}

function describe(v: unknown): string {
  if (isCelList(v)) return 'a list';
  if (isCelMap(v)) return 'a map';
  if (v === null) return 'null';
  return typeof v;
}

function firstLine(s: string): string {
  return s.split('\n')[0] ?? s;
}
