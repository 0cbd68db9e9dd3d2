/**
 * The images the real NSM charts (reference data, read where they are, never copied) make a cluster
 * pull, per chart version, when the mesh is installed from a mirror: `helm template` with
 * `registry.server=<mirror>` and `registry.disablePublicImages=true` (so SPIRE, NATS, the CSI driver
 * and registrar, ubuntu, curl and the hooks' kubectl come from the mirror too), once for
 * `environment=kubernetes` and once for `openshift` (1.5/1.6 run the CSI driver only there), hooks
 * included. Read from the rendered objects: every container's `image`, and the sidecar and init
 * images the mesh config names (2.0: JSON in a ConfigMap's data; 1.x: base64 JSON in its binaryData).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { imagesOfManifests } from '../../src/images/manifest-images.ts';
import { repoRoot } from './tools.ts';

/** Where the reference charts are: NSM_REFERENCE_CHARTS, else ../shared/nsm-reference/charts beside the clone. */
export function referenceChartsDir(): string {
  return path.resolve(process.env.NSM_REFERENCE_CHARTS ?? path.join(repoRoot, '../shared/nsm-reference/charts'));
}

/** The chart versions in a charts folder (<version>/Chart.yaml), oldest first. */
export function chartVersions(chartsDir: string): string[] {
  if (!fs.existsSync(chartsDir)) return [];
  const num = (v: string) => v.split('.').map(Number);
  return fs
    .readdirSync(chartsDir)
    .filter((d) => /^\d+\.\d+\.\d+$/.test(d) && fs.existsSync(path.join(chartsDir, d, 'Chart.yaml')))
    .sort((a, b) => {
      const [x, y] = [num(a), num(b)];
      return x[0]! - y[0]! || x[1]! - y[1]! || x[2]! - y[2]!;
    });
}

/** A key for the charts' content, the mirror and this file: the list is rendered again when one changes. */
export function chartsKey(chartsDir: string, mirror: string): string {
  const h = crypto
    .createHash('sha256')
    .update(mirror)
    .update(fs.readFileSync(import.meta.filename));
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) h.update(path.relative(chartsDir, p)).update('\0').update(fs.readFileSync(p));
    }
  };
  walk(chartsDir);
  return h.digest('hex').slice(0, 16);
}

/** Renders one chart version for both environments and returns its images, sorted. */
export async function chartImages(helm: string, chartDir: string, mirror: string): Promise<string[]> {
  const renders = await Promise.all(
    ['kubernetes', 'openshift'].map((env) =>
      execa(helm, [
        'template',
        'nsm',
        chartDir,
        '-n',
        'nginx-mesh',
        '--set',
        `registry.server=${mirror}`,
        '--set',
        'registry.disablePublicImages=true',
        '--set',
        `environment=${env}`,
      ]),
    ),
  );
  return [...new Set(renders.flatMap((r) => imagesOfManifests(r.stdout).map((u) => u.image)))].sort();
}

/** What .cluster/registry/images.json holds (NSM_REGISTRY_IMAGES): the images of every chart version. */
export interface ImageList {
  key: string;
  mirror: string;
  charts: string;
  versions: Record<string, string[]>;
}

/** The mirror the cached lists are rendered with; each cluster's own replaces it (its port differs). */
const placeholderMirror = 'mirror.invalid/nsm';

/**
 * The image list of every version in `chartsDir` under `mirror`. Rendered once per content of the charts
 * and kept in `cacheDir` (beside the cached binaries) under a placeholder mirror, so a new cluster does
 * not run Helm again; written to `out` for the tests.
 */
export async function imageList(
  helm: string,
  chartsDir: string,
  mirror: string,
  cacheDir: string,
  out: string,
): Promise<ImageList> {
  const key = chartsKey(chartsDir, placeholderMirror);
  const cacheFile = path.join(cacheDir, `chart-images-${key}.json`);
  let versions: Record<string, string[]>;
  if (fs.existsSync(cacheFile)) {
    versions = (JSON.parse(fs.readFileSync(cacheFile, 'utf8')) as ImageList).versions;
  } else {
    versions = {};
    for (const v of chartVersions(chartsDir))
      versions[v] = await chartImages(helm, path.join(chartsDir, v), placeholderMirror);
    fs.mkdirSync(cacheDir, { recursive: true });
    const tmp = `${cacheFile}.tmp${process.pid}`;
    fs.writeFileSync(
      tmp,
      JSON.stringify({ key, mirror: placeholderMirror, charts: chartsDir, versions }, null, 2) + '\n',
    );
    fs.renameSync(tmp, cacheFile);
  }
  const mine = (ref: string) =>
    ref.startsWith(`${placeholderMirror}/`) ? `${mirror}${ref.slice(placeholderMirror.length)}` : ref;
  const list: ImageList = {
    key,
    mirror,
    charts: chartsDir,
    versions: Object.fromEntries(Object.entries(versions).map(([v, refs]) => [v, refs.map(mine)])),
  };
  fs.writeFileSync(out, JSON.stringify(list, null, 2) + '\n', { mode: 0o600 });
  return list;
}
