/**
 * Generates src/mesh/crd-schemas/<version>.json: the custom resource definitions of each mesh
 * version the tool supports, as the tool's own data (what the schema check of a backup validates
 * against: src/backup/schema-check.ts). Read from the public NGINX Service Mesh charts
 * (nginxinc/nginx-service-mesh, Apache-2.0), `<charts>/<version>/crds/*.yaml`; only what validation
 * needs is kept (names, scope, versions served/stored, openAPIV3Schema, conversion strategy),
 * descriptions left out. The charts themselves are never copied into the project.
 *
 *   node scripts/gen-crd-schemas.ts [--charts DIR]    (default ../shared/nsm-reference/charts)
 *   node scripts/gen-crd-schemas.ts --check           exit 1 when a shipped file differs
 */
import fs from 'node:fs';
import path from 'node:path';
import { loadAll } from 'js-yaml';
import { crdSchemaVersions, renderCrdSchemas } from '../src/mesh/crd-data-gen.ts';

const args = process.argv.slice(2);
const at = args.indexOf('--charts');
const charts = path.resolve(
  at >= 0 ? args[at + 1]! : path.join(import.meta.dirname, '../../shared/nsm-reference/charts'),
);
const out = path.join(import.meta.dirname, '../src/mesh/crd-schemas');
let differs = 0;
for (const version of crdSchemaVersions) {
  const dir = path.join(charts, version, 'crds');
  const docs = fs
    .readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .flatMap((f) => loadAll(fs.readFileSync(path.join(dir, f), 'utf8')));
  const text = renderCrdSchemas(version, docs);
  const file = path.join(out, `${version}.json`);
  if (args.includes('--check')) {
    const same = fs.existsSync(file) && fs.readFileSync(file, 'utf8') === text;
    if (!same) {
      differs++;
      console.error(`${file} differs from what ${dir} gives: run node scripts/gen-crd-schemas.ts`);
    }
    continue;
  }
  fs.writeFileSync(file, text);
  console.log(
    `wrote ${path.relative(process.cwd(), file)} (${(JSON.parse(text) as { crds: unknown[] }).crds.length} CRDs from ${dir})`,
  );
}
process.exitCode = differs ? 1 : 0;
