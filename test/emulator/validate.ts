/**
 * The policy validator NSM registers for TrafficSplit, HTTPRouteGroup, RateLimit, CircuitBreaker
 * (and MeshConfig in 2.0). It rejects objects the mesh could not program, as the real one does;
 * deletes are always allowed.
 */
export interface ValidationResult {
  allowed: boolean;
  message?: string;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const nonEmptyString = (v: unknown): v is string => typeof v === 'string' && v.trim() !== '';
const isNonNegInt = (v: unknown) => Number.isInteger(v) && (v as number) >= 0;
const isPosInt = (v: unknown) => Number.isInteger(v) && (v as number) > 0;

/** One rule per kind: returns the problems found in spec (empty when valid). */
const rules: Record<string, { why: string; check: (spec: Obj) => string[] }> = {
  TrafficSplit: {
    why: 'a split needs the root service and at least one weighted backend to route to',
    check: (s) => {
      const out: string[] = [];
      if (!nonEmptyString(s.service)) out.push('spec.service is required');
      if (!Array.isArray(s.backends) || s.backends.length === 0)
        out.push('spec.backends must list at least one backend');
      else
        s.backends.forEach((b, i) => {
          if (!isObj(b) || !nonEmptyString(b.service)) out.push(`spec.backends[${i}].service is required`);
          else if (!isNonNegInt(b.weight)) out.push(`spec.backends[${i}].weight must be a non-negative integer`);
        });
      return out;
    },
  },
  HTTPRouteGroup: {
    why: 'routes are matched by name; headers is an object since 1.5',
    check: (s) => {
      const out: string[] = [];
      if (!Array.isArray(s.matches) || s.matches.length === 0) return ['spec.matches must list at least one match'];
      s.matches.forEach((m, i) => {
        if (!isObj(m) || !nonEmptyString(m.name)) out.push(`spec.matches[${i}].name is required`);
        else if (m.headers !== undefined && !isObj(m.headers))
          out.push(`spec.matches[${i}].headers must be an object of header: regex`);
      });
      return out;
    },
  },
  RateLimit: {
    why: 'a limit needs a destination and a rate like 10r/s or 100r/m',
    check: (s) => {
      const out: string[] = [];
      if (!isObj(s.destination) || !nonEmptyString(s.destination.name)) out.push('spec.destination.name is required');
      if (typeof s.rate !== 'string' || !/^\d+r\/[sm]$/.test(s.rate))
        out.push('spec.rate must look like 10r/s or 100r/m');
      return out;
    },
  },
  CircuitBreaker: {
    why: 'a breaker needs a destination, an error count and a timeout',
    check: (s) => {
      const out: string[] = [];
      if (!isObj(s.destination) || !nonEmptyString(s.destination.name)) out.push('spec.destination.name is required');
      if (!isPosInt(s.errors)) out.push('spec.errors must be a positive integer');
      if (!isPosInt(s.timeoutSeconds)) out.push('spec.timeoutSeconds must be a positive integer');
      return out;
    },
  },
};

export function validatePolicy(operation: string, object: unknown): ValidationResult {
  if (operation === 'DELETE' || operation === 'CONNECT') return { allowed: true };
  if (!isObj(object)) return { allowed: false, message: 'the request carries no object' };
  const kind = String(object.kind ?? '');
  const rule = rules[kind];
  if (!rule) return { allowed: true };
  const spec = object.spec;
  if (!isObj(spec)) return { allowed: false, message: `${kind} has no spec` };
  const problems = rule.check(spec);
  if (problems.length === 0) return { allowed: true };
  const name = isObj(object.metadata) ? String(object.metadata.name ?? object.metadata.generateName ?? '') : '';
  return { allowed: false, message: `${kind} ${name} is invalid: ${problems.join('; ')}` };
}

/** The kinds this validator checks, for logs and tests. */
export const validatedKinds = Object.keys(rules);
