/**
 * Generates src/images/chart-images.json: the images of each chart version 1.5.0..2.0.0, rendered by
 * `helm template` from the public NGINX Service Mesh charts (nginxinc/nginx-service-mesh, Apache-2.0;
 * never copied into the project) for both environments, with and without registry.disablePublicImages,
 * with placeholders for registry.server and registry.imageTag (src/images/chart-images.ts).
 *
 *   node scripts/gen-chart-images.ts [--charts DIR] [--helm BIN]   (defaults ../shared/nsm-reference/charts, $HELM3 or helm)
 *   node scripts/gen-chart-images.ts --check                       exit 1 when the shipped file differs
 */
import fs from 'node:fs';
import path from 'node:path';
import { renderChartImageData } from './chart-images-gen.ts';

const args = process.argv.slice(2);
const opt = (name: string) => {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
};
const charts = path.resolve(opt('--charts') ?? path.join(import.meta.dirname, '../../shared/nsm-reference/charts'));
const helm = opt('--helm') ?? process.env.HELM3 ?? 'helm';
const file = path.join(import.meta.dirname, '../src/images/chart-images.json');
const text = await renderChartImageData(helm, charts);
if (args.includes('--check')) {
  const same = fs.existsSync(file) && fs.readFileSync(file, 'utf8') === text;
  if (!same) console.error(`${file} differs from what ${charts} gives: run node scripts/gen-chart-images.ts`);
  process.exitCode = same ? 0 : 1;
} else {
  fs.writeFileSync(file, text);
  console.log(`wrote ${path.relative(process.cwd(), file)} from ${charts}`);
}
