/**
 * Every field an NSM chart version knows, with what the chart says about it: from values.schema.json
 * (each property, through $ref, oneOf/anyOf/allOf and items, with its `description`) and from
 * values.yaml (each key, also the commented-out examples such as the upstream authorities, with the
 * comment lines above it). Pure, for the secret classification test.
 */
import fs from 'node:fs';
import path from 'node:path';
import { repoRoot } from './cluster.ts';

export interface ChartField {
  /** Dotted path of the value ("mtls.upstreamAuthority.vault.tokenAuth.token"). */
  path: string;
  /** What the chart says: the schema's description, or the comment lines above the key. */
  description: string;
  /** Does it hold a value (string, number, ...), not an object of further fields? */
  leaf: boolean;
  source: string;
}

/**
 * The reference charts (one folder per version): NSM_REFERENCE_CHARTS, else ../shared/nsm-reference/charts
 * beside the checkout (the main checkout), else two levels up (a worktree under wt/). Undefined when absent.
 */
export function referenceChartsDir(): string | undefined {
  const candidates = process.env.NSM_REFERENCE_CHARTS
    ? [path.resolve(repoRoot, process.env.NSM_REFERENCE_CHARTS)]
    : [
        path.resolve(repoRoot, '../shared/nsm-reference/charts'),
        path.resolve(repoRoot, '../../shared/nsm-reference/charts'),
      ];
  return candidates.find((d) => fs.existsSync(d));
}

type Schema = {
  type?: string | string[];
  description?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  $ref?: string;
  oneOf?: Schema[];
  anyOf?: Schema[];
  allOf?: Schema[];
  definitions?: Record<string, Schema>;
};

export function schemaFields(schema: Schema, source: string): ChartField[] {
  const out: ChartField[] = [];
  const resolve = (s: Schema): Schema =>
    s.$ref?.startsWith('#/definitions/') ? { ...schema.definitions?.[s.$ref.slice(14)], ...s, $ref: undefined } : s;
  const walk = (raw: Schema, p: string, description: string, depth: number): void => {
    if (depth > 20) return;
    const s = resolve(raw);
    const desc = s.description ?? description;
    const props = Object.entries(s.properties ?? {});
    for (const alt of [...(s.oneOf ?? []), ...(s.anyOf ?? []), ...(s.allOf ?? [])]) walk(alt, p, desc, depth + 1);
    if (s.items) walk(s.items, `${p}[]`, desc, depth + 1);
    if (p) out.push({ path: p, description: desc, leaf: props.length === 0 && s.type !== 'object', source });
    for (const [k, v] of props) walk(v, p ? `${p}.${k}` : k, '', depth + 1);
  };
  walk(schema, '', '', 0);
  return out;
}

// A key line, live or commented out: `key:` with an empty, quoted, numeric, boolean, {} or [] value.
// ("# Affects: nginx-mesh-api, ..." and "# Valid values: on, off" are prose, not keys.)
const keyLine =
  /^(\s*)(#\s?)?(\s*)([A-Za-z][A-Za-z0-9_]*):\s*("[^"]*"|'[^']*'|-?[0-9.]+|true|false|\{\}|\[\]|[A-Za-z0-9_-]+)?\s*$/;

export function valuesFields(text: string, source: string): ChartField[] {
  const out: ChartField[] = [];
  const stack: { indent: number; key: string }[] = [];
  let comments: string[] = [];
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    const m = keyLine.exec(line);
    if (!m) {
      const c = /^\s*#[\s#]*(.*)$/.exec(line);
      if (c) comments.push(c[1]!.trim());
      else if (line.trim() === '') comments = [];
      return;
    }
    const indent = m[1]!.length + (m[2] ? m[2].length + m[3]!.length : 0);
    while (stack.length && stack[stack.length - 1]!.indent >= indent) stack.pop();
    const p = [...stack.map((s) => s.key), m[4]!].join('.');
    // A key is a leaf unless the next key line is indented deeper.
    const next = lines
      .slice(i + 1)
      .map((l) => keyLine.exec(l))
      .find(Boolean);
    const nextIndent = next ? next[1]!.length + (next[2] ? next[2].length + next[3]!.length : 0) : -1;
    out.push({
      path: p,
      description: comments.join(' '),
      leaf: nextIndent <= indent || (m[5] !== undefined && m[5] !== '{}'),
      source,
    });
    stack.push({ indent, key: m[4]! });
    comments = [];
  });
  return out;
}

/** Every field of every chart version under `chartsDir` (schema and values.yaml). */
export function allChartFields(chartsDir: string): ChartField[] {
  return fs
    .readdirSync(chartsDir)
    .filter((v) => fs.existsSync(path.join(chartsDir, v, 'Chart.yaml')))
    .sort()
    .flatMap((v) => [
      ...schemaFields(
        JSON.parse(fs.readFileSync(path.join(chartsDir, v, 'values.schema.json'), 'utf8')) as Schema,
        `${v}/values.schema.json`,
      ),
      ...valuesFields(fs.readFileSync(path.join(chartsDir, v, 'values.yaml'), 'utf8'), `${v}/values.yaml`),
    ]);
}
