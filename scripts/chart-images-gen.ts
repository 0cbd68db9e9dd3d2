/**
 * How gen-chart-images.ts renders the charts into chart-images.json (also run by the
 * integration test that checks the shipped file against the charts). Runs helm: build-time only,
 * never imported by the tool.
 */
import path from 'node:path';
import { execa } from 'execa';
import { imagesOfManifests } from '../src/images/manifest-images.ts';
import { serverPlaceholder, tagPlaceholder, type ChartImageData } from '../src/images/chart-images.ts';

export const chartImageDataVersions = ['1.5.0', '1.6.0', '1.7.0', '2.0.0'] as const;

/** `helm template` of one chart with the image settings as placeholders. */
export async function renderChart(
  helm: string,
  chartDir: string,
  environment: string,
  disablePublicImages: boolean,
  server = serverPlaceholder,
  tag = tagPlaceholder,
): Promise<string> {
  const res = await execa(helm, [
    'template',
    'nsm',
    chartDir,
    '-n',
    'nginx-mesh',
    '--set',
    `registry.server=${server}`,
    '--set',
    `registry.imageTag=${tag}`,
    '--set',
    `registry.disablePublicImages=${disablePublicImages}`,
    '--set',
    `environment=${environment}`,
  ]);
  return res.stdout;
}

/** The file's text: every version, both environments, public and mirror-only. */
export async function renderChartImageData(helm: string, chartsDir: string): Promise<string> {
  const out: ChartImageData = {};
  for (const v of chartImageDataVersions) {
    const dir = path.join(chartsDir, v);
    const env = async (environment: 'kubernetes' | 'openshift') => ({
      public: imagesOfManifests(await renderChart(helm, dir, environment, false)),
      mirror: imagesOfManifests(await renderChart(helm, dir, environment, true)),
    });
    out[v] = { kubernetes: await env('kubernetes'), openshift: await env('openshift') };
  }
  return JSON.stringify(out, null, 1) + '\n';
}
