/**
 * Issue 23, "every credential every chart version knows": the classification of secret.ts against
 * the NSM charts themselves. Every field of every version's values.yaml (the commented-out
 * examples too) and values.schema.json whose name or description speaks of a key, password,
 * token, secret (ID), private key, kubeconfig, access key or credential must be secret, or be one
 * of the reviewed exceptions (notCredentials, each with its reason).
 */
import { describe, expect, it } from 'vitest';
import { isSecretPath, markSecrets, notCredentials } from '../../../src/secret.ts';
import {
  allChartFields,
  referenceChartsDir,
  schemaFields,
  valuesFields,
  type ChartField,
} from '../../support/chart-fields.ts';

/** Words that say a field may hold a credential, in its name (camelCase split) or in what the chart says of it. */
const speaksOfCredential = /password|passphrase|token|secret|credential|private key|\bkeys?\b|kube ?config|access key/i;
const nameWords = (p: string) => p.slice(p.lastIndexOf('.') + 1).replace(/([a-z0-9])([A-Z])/g, '$1 $2');

/** Fields that hold a value (not an object of further fields, in any source). */
function valueFields(fields: ChartField[]): Map<string, string[]> {
  const containers = new Set(
    fields.flatMap((f) =>
      f.path
        .split('.')
        .slice(0, -1)
        .map((_, i, a) => a.slice(0, i + 1).join('.')),
    ),
  );
  const out = new Map<string, string[]>();
  for (const f of fields) {
    const p = f.path.replace(/\[\]$/, '');
    if (containers.has(p) || f.path.includes('[]')) continue;
    out.set(p, [...(out.get(p) ?? []), `${f.source}: ${f.description}`]);
  }
  return out;
}

describe('every credential of every NSM chart version is secret', () => {
  const dir = referenceChartsDir();

  it('each field that speaks of a credential is secret or a reviewed exception; no exception is stale', (ctx) => {
    ctx.skip(
      !dir,
      'the reference charts are not at ../shared/nsm-reference/charts or ../../shared/nsm-reference/charts beside the checkout (set NSM_REFERENCE_CHARTS)',
    );
    const fields = valueFields(allChartFields(dir!));
    // The walk must see the commented-out upstream authorities of values.yaml and the schema's fields.
    expect(fields.has('mtls.upstreamAuthority.vault.approleAuth.approleSecretID')).toBe(true);
    expect(fields.has('mtls.upstreamAuthority.awsSecret.awsSecretKeyID')).toBe(true);
    expect(fields.size).toBeGreaterThan(60);
    const missed: string[] = [];
    for (const [p, said] of fields) {
      const speaks =
        speaksOfCredential.test(nameWords(p)) ||
        said.some((d) => speaksOfCredential.test(d.slice(d.indexOf(': ') + 2)));
      if (speaks && !isSecretPath(p) && !notCredentials.some((n) => n.path === p))
        missed.push(`${p} (${said.join(' | ')})`);
    }
    expect(
      missed,
      'fields that hold a credential and are not secret (secret.ts isSecretPath), or add a reviewed exception to notCredentials',
    ).toEqual([]);
    for (const n of notCredentials) {
      expect(fields.has(n.path), `notCredentials names ${n.path}, which no chart has`).toBe(true);
      expect(n.reason.length).toBeGreaterThan(10);
    }
  });

  it('the walk reads schema descriptions through $ref, and the commented-out keys of values.yaml with their comments', () => {
    const schema = {
      type: 'object',
      definitions: { s: { type: 'string' } },
      properties: {
        a: { type: 'object', properties: { b: { $ref: '#/definitions/s', description: 'A credential of AppRole' } } },
      },
    };
    expect(schemaFields(schema, 'x')).toEqual([
      { path: 'a', description: '', leaf: false, source: 'x' },
      { path: 'a.b', description: 'A credential of AppRole', leaf: true, source: 'x' },
    ]);
    const yaml = [
      'mtls:',
      '  upstreamAuthority: {}',
      '    # vault:',
      '    #   # A credential of AppRole',
      '    #   approleSecretID: ""',
      '  # Affects: nginx-mesh-api, nginx-mesh-sidecar',
      '  mode: "strict"',
    ].join('\n');
    expect(valuesFields(yaml, 'y').map((f) => [f.path, f.description, f.leaf])).toEqual([
      ['mtls', '', false],
      ['mtls.upstreamAuthority', '', false],
      ['mtls.upstreamAuthority.vault', '', false],
      ['mtls.upstreamAuthority.vault.approleSecretID', 'A credential of AppRole', true],
      ['mtls.mode', 'Affects: nginx-mesh-api, nginx-mesh-sidecar', true],
    ]);
  });

  it('a credential a future chart adds is secret by its name; names, paths and references stay visible', () => {
    for (const p of [
      'mtls.upstreamAuthority.vault.approleAuth.approleSecretID',
      'mtls.upstreamAuthority.awsSecret.awsSecretKeyID',
      'mtls.upstreamAuthority.certManager.kubeConfig',
      'mtls.upstreamAuthority.gcpCAS.serviceAccountKey',
      'telemetry.exporters.otlp.apiToken',
      'oidc.clientSecret',
      'x.adminPassword',
      'x.kubeconfig',
      'x.privateKeyData',
      'x.tlsKeyFile',
      'x.basic_auth_password',
    ]) {
      expect({ p, secret: isSecretPath(p) }).toEqual({ p, secret: true });
    }
    for (const p of [
      'mtls.upstreamAuthority.vault.approleAuth.approleID',
      'x.tlsSecretName',
      'x.keyPath',
      'x.tokenRef',
      'mtls.upstreamAuthority.awsSecret.keyFileArn',
      'mtls.caKeyType',
      'registry.username',
      'mtls.upstreamAuthority.vault.caCert',
    ]) {
      expect({ p, secret: isSecretPath(p) }).toEqual({ p, secret: false });
    }
    const marked = markSecrets({
      mtls: {
        upstreamAuthority: {
          vault: { approleAuth: { approleID: 'role-1', approleSecretID: 'sid-0123' } },
          certManager: { kubeConfig: 'apiVersion: v1' },
        },
      },
    });
    expect(JSON.stringify(marked)).toBe(
      '{"mtls":{"upstreamAuthority":{"vault":{"approleAuth":{"approleID":"role-1","approleSecretID":"<redacted>"}},"certManager":{"kubeConfig":"<redacted>"}}}}',
    );
  });
});
