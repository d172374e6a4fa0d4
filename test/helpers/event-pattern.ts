/**
 * EventBridge's event-pattern matching, offline (TestEventPattern needs AWS), as the EventBridge
 * user guide defines it ("Event patterns", "Content filtering", "$or matching"):
 *
 * - every field named in the pattern must match; fields the pattern does not name are ignored;
 * - a field's pattern is an array of alternatives (one must match) or an object of nested fields;
 * - a scalar alternative matches an equal value of the same type (`"1"` is not `1`, `null` matches
 *   JSON null); an event array matches when any of its elements matches;
 * - content filters: `prefix`, `suffix`, `equals-ignore-case`, `anything-but` (a value, a list or
 *   a `prefix`/`suffix`), `exists`, `numeric` (`=`, `<`, `<=`, `>`, `>=`, ANDed), `wildcard` (`*`);
 * - `$or`: an array of sub-patterns at that level, one of which must match;
 * - a nested pattern against an array of objects matches when one element does.
 *
 * Anything else (an unknown filter, an empty alternative list, a non-object pattern) throws, so a
 * pattern this helper does not understand fails the test instead of passing it.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Filter = Record<string, Json>;

const MISSING = Symbol('missing');

function isObject(value: unknown): value is Record<string, Json> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function wildcard(pattern: string, value: string): boolean {
  const re = new RegExp(
    `^${pattern
      .split('*')
      .map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );
  return re.test(value);
}

function numeric(conditions: Json[], value: number): boolean {
  if (conditions.length % 2 !== 0)
    throw new Error(`numeric filter needs operator/value pairs: ${JSON.stringify(conditions)}`);
  for (let i = 0; i < conditions.length; i += 2) {
    const op = conditions[i];
    const bound = conditions[i + 1];
    if (typeof bound !== 'number')
      throw new Error(`numeric bound must be a number: ${JSON.stringify(bound)}`);
    const ok =
      op === '='
        ? value === bound
        : op === '<'
          ? value < bound
          : op === '<='
            ? value <= bound
            : op === '>'
              ? value > bound
              : op === '>='
                ? value >= bound
                : (() => {
                    throw new Error(`unknown numeric operator ${JSON.stringify(op)}`);
                  })();
    if (!ok) return false;
  }
  return true;
}

/** One alternative (a scalar or a content filter) against one scalar value of the event. */
function alternativeMatches(alternative: Json, value: Json | typeof MISSING): boolean {
  if (!isObject(alternative)) {
    if (Array.isArray(alternative)) throw new Error('an alternative cannot be an array');
    return value !== MISSING && value === alternative;
  }
  const keys = Object.keys(alternative);
  if (keys.length !== 1)
    throw new Error(`a content filter has exactly one key: ${JSON.stringify(alternative)}`);
  const [kind] = keys as [string];
  const arg = (alternative as Filter)[kind] as Json;
  if (kind === 'exists') {
    if (typeof arg !== 'boolean') throw new Error('exists takes true or false');
    return arg === (value !== MISSING);
  }
  if (value === MISSING) return false;
  switch (kind) {
    case 'prefix':
      if (isObject(arg) && typeof arg['equals-ignore-case'] === 'string') {
        return (
          typeof value === 'string' && value.toLowerCase().startsWith(arg['equals-ignore-case'].toLowerCase())
        );
      }
      return typeof arg === 'string' && typeof value === 'string' && value.startsWith(arg);
    case 'suffix':
      return typeof arg === 'string' && typeof value === 'string' && value.endsWith(arg);
    case 'equals-ignore-case':
      return (
        typeof arg === 'string' && typeof value === 'string' && value.toLowerCase() === arg.toLowerCase()
      );
    case 'wildcard':
      return typeof arg === 'string' && typeof value === 'string' && wildcard(arg, value);
    case 'numeric':
      if (!Array.isArray(arg)) throw new Error('numeric takes an array');
      return typeof value === 'number' && numeric(arg, value);
    case 'anything-but': {
      if (isObject(arg)) return !alternativeMatches(arg, value);
      const excluded = Array.isArray(arg) ? arg : [arg];
      return !excluded.some((x) => x === value);
    }
    default:
      throw new Error(`unsupported content filter ${kind}`);
  }
}

/** A field's list of alternatives against the event's value (a scalar, an array, or missing). */
function leafMatches(alternatives: Json[], value: Json | typeof MISSING): boolean {
  if (alternatives.length === 0) throw new Error('an empty list of alternatives matches nothing');
  if (Array.isArray(value)) {
    return value.some((v) => alternatives.some((a) => alternativeMatches(a, v)));
  }
  if (isObject(value)) return false;
  return alternatives.some((a) => alternativeMatches(a, value));
}

/** Does `event` match `pattern` (both plain JSON, the pattern as CloudFormation holds it)? */
export function matchesEventPattern(pattern: unknown, event: unknown): boolean {
  if (!isObject(pattern)) throw new Error(`a pattern is an object, got ${JSON.stringify(pattern)}`);
  return objectMatches(pattern, event as Json);
}

function objectMatches(pattern: Record<string, Json>, event: Json | typeof MISSING): boolean {
  if (Array.isArray(event)) return event.some((element) => objectMatches(pattern, element));
  const fields = isObject(event) ? event : {};
  return Object.entries(pattern).every(([key, sub]) => {
    if (key === '$or') {
      if (!Array.isArray(sub) || sub.length < 2)
        throw new Error('$or takes an array of at least two patterns');
      return sub.some((alternative) => {
        if (!isObject(alternative)) throw new Error('$or alternatives are patterns');
        return objectMatches(alternative, event);
      });
    }
    const value = Object.prototype.hasOwnProperty.call(fields, key) ? (fields[key] as Json) : MISSING;
    if (Array.isArray(sub)) return leafMatches(sub, value);
    if (isObject(sub))
      return value !== MISSING && (isObject(value) || Array.isArray(value)) && objectMatches(sub, value);
    throw new Error(`field ${key}: a pattern value is an array or an object, got ${JSON.stringify(sub)}`);
  });
}

/**
 * The pattern with every CloudFormation intrinsic (`{ Ref }`, `{ Fn::… }`) replaced by what
 * `resolve` returns for it: the template's pattern, made concrete for a sample event.
 */
export function resolveIntrinsics(
  value: unknown,
  resolve: (intrinsic: Record<string, unknown>) => Json,
): Json {
  if (Array.isArray(value)) return value.map((v) => resolveIntrinsics(v, resolve));
  if (isObject(value)) {
    const keys = Object.keys(value);
    if (keys.length === 1 && (keys[0] === 'Ref' || keys[0]!.startsWith('Fn::'))) return resolve(value);
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveIntrinsics(v, resolve)]));
  }
  return value as Json;
}
