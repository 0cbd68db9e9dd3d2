/**
 * The chart image data nginx-meshctl hops are planned from (src/images/chart-images.json) against its
 * sources: the reference charts rendered again by `helm template`, and the real nginx-meshctl's own
 * `deploy --dry-run` manifest (the chart it embeds, rendered with its flags), on a cluster without a mesh.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderChartImageData } from '../../scripts/chart-images-gen.ts';
import { referenceChartsDir } from '../cluster/chart-images.ts';
import { chartImages } from '../../src/images/chart-images.ts';
import { dryRunImages, imageRole } from '../../src/images/manifest-images.ts';
import { clusterEnv, testKube } from '../support/cluster.ts';
import { missingRealMeshctl, runRealMeshctl } from '../support/real-meshctl.ts';
import { removeAllMeshes } from '../support/mesh-scenario.ts';

const shipped = path.join(import.meta.dirname, '../../src/images/chart-images.json');

describe('the chart image data', () => {
  it('is what `helm template` of the reference charts gives (npm run gen:chart-images)', async (ctx) => {
    const charts = referenceChartsDir();
    ctx.skip(!fs.existsSync(path.join(charts, '2.0.0')), `no reference charts at ${charts} (set NSM_REFERENCE_CHARTS)`);
    expect(await renderChartImageData(clusterEnv().HELM3!, charts)).toBe(fs.readFileSync(shipped, 'utf8'));
  });

  it.for(['1.7.0', '2.0.0'])(
    'names what the real nginx-meshctl %s deploy --dry-run renders with the same flags (hooks aside: its manifest leaves them out)',
    async (version, ctx) => {
      ctx.skip(Boolean(missingRealMeshctl([version])), missingRealMeshctl([version]) ?? '');
      await removeAllMeshes(await testKube());
      const server = 'mirror.example:5000/nsm';
      const r = await runRealMeshctl(version, [
        '-n',
        'nsm-dry-run',
        'deploy',
        '--dry-run',
        '--cleanup-on-error=false',
        '--registry-server',
        server,
        '--disable-public-images',
        '--image-tag',
        'x1',
      ]);
      expect(r.exitCode, r.stderr).toBe(0);
      const printed = dryRunImages(r.stdout).map((u) => u.image);
      const data = chartImages(version, { server, tag: 'x1', disablePublicImages: true, environment: 'kubernetes' })!;
      expect(printed.length).toBeGreaterThan(5);
      expect(printed).toEqual(data.filter((u) => imageRole(u) !== 'hook').map((u) => u.image));
    },
  );
});
