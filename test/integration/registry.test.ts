/**
 * The test bed's registry (test/cluster/registry.ts), against the running one: every image every reference
 * chart version names is served under the mirror path, as a real multi-platform OCI image; auth is
 * enforced; a tag can be deleted and put back (what the image preflight's tests will do).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { load } from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  indexType,
  manifestType,
  registryRequest,
  registryTool,
  splitRef,
  testRegistry,
  type TestRegistry,
} from '../support/registry.ts';

let reg: TestRegistry | undefined;
beforeAll(() => {
  reg = testRegistry();
});
afterAll(() => reg?.agent.destroy());
const noRegistry =
  'the cluster has no registry (.cluster/env lacks NSM_REGISTRY: restart it with npm run cluster:down && npm run cluster:up)';
const sha256 = (b: Buffer) => `sha256:${crypto.createHash('sha256').update(b).digest('hex')}`;

/**
 * The oracle, read from the chart sources without Helm: each `image:` line of the templates and each
 * `printf "%s/<name>:%s"` of the mesh config, with `{{ ... }}` removed (the image-server helpers all
 * resolve to the mirror with disablePublicImages), `registry.imageTag` from values.yaml; an untagged image stays
 * untagged (Kubernetes pulls it as `latest`).
 */
function imagesInChartSource(chartDir: string, mirror: string): string[] {
  const values = load(fs.readFileSync(path.join(chartDir, 'values.yaml'), 'utf8')) as {
    registry: { imageTag: string };
  };
  const out = new Set<string>();
  const add = (nameTag: string) => out.add(`${mirror}/${nameTag}`);
  const files = (dir: string) =>
    fs
      .readdirSync(dir)
      .map((f) => path.join(dir, f))
      .filter((f) => fs.statSync(f).isFile());
  for (const file of files(path.join(chartDir, 'templates'))) {
    for (const m of fs.readFileSync(file, 'utf8').matchAll(/^\s*(?:-\s+)?image:\s*(.+)$/gm)) {
      const text = m[1]!
        .replace(/\{\{\s*\.Values\.registry\.imageTag\s*\}\}/g, values.registry.imageTag)
        .replace(/\{\{.*?\}\}/g, '')
        .trim();
      add(text.slice(text.lastIndexOf('/') + 1));
    }
  }
  for (const file of files(path.join(chartDir, 'configs'))) {
    for (const m of fs
      .readFileSync(file, 'utf8')
      .matchAll(/printf "%s\/([\w.-]+):%s" \.Values\.registry\.server \.Values\.registry\.imageTag/g))
      add(`${m[1]}:${values.registry.imageTag}`);
  }
  return [...out].sort();
}

describe('the test bed registry', () => {
  it('publishes, for every reference chart version, exactly the images its templates and mesh config name', (ctx) => {
    ctx.skip(!reg, noRegistry);
    const versions = Object.keys(reg!.images.versions);
    ctx.skip(
      !versions.length,
      `no reference charts were found at cluster:up (${reg!.images.charts || 'none'}; set NSM_REFERENCE_CHARTS)`,
    );
    expect(versions).toEqual(expect.arrayContaining(['1.5.0', '1.6.0', '1.7.0', '2.0.0']));
    for (const v of versions) {
      expect(reg!.images.versions[v], v).toEqual(imagesInChartSource(path.join(reg!.images.charts, v), reg!.mirror));
    }
    expect(reg!.images.versions['2.0.0']).toEqual(
      expect.arrayContaining([
        `${reg!.mirror}/nginx-mesh-controller:2.0.0`,
        `${reg!.mirror}/nginx-mesh-sidecar:2.0.0`,
        `${reg!.mirror}/nginx-mesh-init:2.0.0`,
        `${reg!.mirror}/spire-server:1.5.6`,
        `${reg!.mirror}/kubectl`,
      ]),
    );
  });

  it('serves every one of them with the credentials: HEAD 200, an OCI index for linux/amd64 and linux/arm64 whose bytes hash to its digest', async (ctx) => {
    ctx.skip(!reg, noRegistry);
    const refs = [...new Set(Object.values(reg!.images.versions).flat())];
    ctx.skip(!refs.length, 'no reference charts were found at cluster:up: nothing was published');
    await Promise.all(
      refs.map(async (ref) => {
        const { repo, tag } = splitRef(reg!, ref);
        const head = await registryRequest(reg!, 'HEAD', `/v2/${repo}/manifests/${tag}`);
        expect(head.status, ref).toBe(200);
        expect(head.headers['content-type'], ref).toBe(indexType);
        const get = await registryRequest(reg!, 'GET', `/v2/${repo}/manifests/${tag}`);
        expect(sha256(get.body), ref).toBe(head.headers['docker-content-digest']);
        const index = JSON.parse(get.body.toString()) as {
          mediaType: string;
          manifests: { mediaType: string; platform: { os: string; architecture: string } }[];
        };
        expect(
          index.manifests.map((m) => `${m.platform.os}/${m.platform.architecture}`),
          ref,
        ).toEqual(['linux/amd64', 'linux/arm64']);
        expect(
          index.manifests.every((m) => m.mediaType === manifestType),
          ref,
        ).toBe(true);
      }),
    );
  });

  it('holds real images: each platform manifest, config and layer is stored under its own digest, and the config names its platform and layer', async (ctx) => {
    ctx.skip(!reg, noRegistry);
    const ref = reg!.images.versions['2.0.0']?.find((r) => r.includes('/nginx-mesh-controller:'));
    ctx.skip(!ref, 'no 2.0.0 reference chart was published');
    const { repo, tag } = splitRef(reg!, ref!);
    const index = JSON.parse((await registryRequest(reg!, 'GET', `/v2/${repo}/manifests/${tag}`)).body.toString()) as {
      manifests: { digest: string; size: number; platform: { architecture: string } }[];
    };
    for (const child of index.manifests) {
      const m = await registryRequest(reg!, 'GET', `/v2/${repo}/manifests/${child.digest}`);
      expect([sha256(m.body), m.body.length]).toEqual([child.digest, child.size]);
      const manifest = JSON.parse(m.body.toString()) as {
        config: { digest: string };
        layers: { digest: string; mediaType: string }[];
      };
      const config = await registryRequest(reg!, 'GET', `/v2/${repo}/blobs/${manifest.config.digest}`);
      const layer = await registryRequest(reg!, 'GET', `/v2/${repo}/blobs/${manifest.layers[0]!.digest}`);
      expect(sha256(config.body)).toBe(manifest.config.digest);
      expect(sha256(layer.body)).toBe(manifest.layers[0]!.digest);
      const cfg = JSON.parse(config.body.toString()) as {
        os: string;
        architecture: string;
        rootfs: { diff_ids: string[] };
      };
      expect([cfg.os, cfg.architecture]).toEqual(['linux', child.platform.architecture]);
      expect(cfg.rootfs.diff_ids).toEqual([sha256(zlib.gunzipSync(layer.body))]);
    }
  });

  it('refuses a wrong password and no credentials with 401, asking for basic auth', async (ctx) => {
    ctx.skip(!reg, noRegistry);
    const ref = Object.values(reg!.images.versions).flat()[0];
    const apiPath = ref ? (({ repo, tag }) => `/v2/${repo}/manifests/${tag}`)(splitRef(reg!, ref)) : '/v2/';
    const wrong = await registryRequest(reg!, 'HEAD', apiPath, {
      credentials: { username: reg!.username, password: `${reg!.password}x` },
    });
    const none = await registryRequest(reg!, 'HEAD', apiPath, { credentials: 'none' });
    expect([wrong.status, none.status]).toEqual([401, 401]);
    expect(none.headers['www-authenticate']).toMatch(/^Basic realm=/);
    expect((await registryRequest(reg!, 'GET', '/v2/')).status).toBe(200);
  });

  describe('changed by its tool', () => {
    const target = () => reg!.images.versions['2.0.0']?.find((r) => r.includes('/nginx-mesh-sidecar:'));
    afterAll(async () => {
      // put the published image back whatever happened
      const ref = reg && target();
      if (ref) await registryTool(reg!, ['push', ref]);
    });

    it('deletes a tag (HEAD 404, gone from the tag list) and puts it back with the same digest', async (ctx) => {
      ctx.skip(!reg, noRegistry);
      const ref = target();
      ctx.skip(!ref, 'no 2.0.0 reference chart was published');
      const { repo, tag } = splitRef(reg!, ref!);
      const manifestPath = `/v2/${repo}/manifests/${tag}`;
      const before = await registryRequest(reg!, 'HEAD', manifestPath);
      expect(before.status).toBe(200);
      const del = await registryTool(reg!, ['delete', ref!]);
      expect(del.exitCode, del.stderr).toBe(0);
      expect((await registryRequest(reg!, 'HEAD', manifestPath)).status).toBe(404);
      const tags = JSON.parse((await registryRequest(reg!, 'GET', `/v2/${repo}/tags/list`)).body.toString()) as {
        tags: string[] | null;
      };
      expect(tags.tags ?? []).not.toContain(tag);
      const again = await registryTool(reg!, ['delete', ref!]);
      expect(again.exitCode).toBe(1);
      expect(again.stderr).toContain('404');

      const push = await registryTool(reg!, ['push', ref!]);
      expect(push.exitCode, push.stderr).toBe(0);
      const after = await registryRequest(reg!, 'HEAD', manifestPath);
      expect(after.status).toBe(200);
      expect(after.headers['docker-content-digest']).toBe(before.headers['docker-content-digest']);
      expect((await registryTool(reg!, ['tags', `${reg!.host}/${repo}`])).stdout.split('\n')).toContain(tag);
    });

    it("pushes an image without the nodes' platform (linux/arm64 only) and says so in inspect", async (ctx) => {
      ctx.skip(!reg, noRegistry);
      const ref = target();
      ctx.skip(!ref, 'no 2.0.0 reference chart was published');
      const push = await registryTool(reg!, ['push', ref!, '--platforms', 'linux/arm64']);
      expect(push.exitCode, push.stderr).toBe(0);
      const seen = JSON.parse((await registryTool(reg!, ['inspect', ref!])).stdout) as {
        mediaType: string;
        platforms: string[];
      };
      expect(seen).toMatchObject({ mediaType: indexType, platforms: ['linux/arm64'] });
      expect((await registryTool(reg!, ['push', ref!])).exitCode).toBe(0);
      expect(
        (JSON.parse((await registryTool(reg!, ['inspect', ref!])).stdout) as { platforms: string[] }).platforms,
      ).toEqual(['linux/amd64', 'linux/arm64']);
    });
  });
});
