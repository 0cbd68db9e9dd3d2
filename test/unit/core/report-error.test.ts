/** The top-level catch: each error class maps to the exit code the README promises, with a message that names the fix. */
import { describe, expect, it } from 'vitest';
import { reportError } from '../../../src/cli/report-error.ts';
import { KubeApiError } from '../../../src/kube/client.ts';
import { assertSafeName } from '../../../src/kube/paths.ts';

function report(err: unknown): { code: number; text: string } {
  let text = '';
  const code = reportError(err, {
    out: () => undefined,
    err: (s: string) => {
      text += s;
    },
  });
  return { code, text };
}

describe('reportError', () => {
  it('an invalid name is bad input: exit 2, one line, no stack trace', () => {
    let err: unknown;
    try {
      assertSafeName('shop/../kube-system', 'namespace');
    } catch (e) {
      err = e;
    }
    const r = report(err);
    expect(r.code).toBe(2);
    expect(r.text).toBe(
      "error: invalid namespace \"shop/../kube-system\": not a Kubernetes name (it starts and ends with a letter or digit, has no '/', '%', spaces or '..', and at most 253 characters)\n",
    );
  });

  it('a 403 names the verb and resource the server refused, and where the needed permissions are listed', () => {
    const body = {
      kind: 'Status',
      reason: 'Forbidden',
      message:
        'trafficsplits.split.smi-spec.io is forbidden: User "dev" cannot list resource "trafficsplits" in API group "split.smi-spec.io" at the cluster scope',
    };
    const r = report(new KubeApiError(403, 'GET /apis/split.smi-spec.io/v1alpha3/trafficsplits', body));
    expect(r.code).toBe(1);
    expect(r.text).toContain('cannot list resource "trafficsplits" in API group "split.smi-spec.io"');
    expect(r.text).toContain('manifests/rbac/clusterrole.yaml');
    expect(r.text).not.toMatch(/reachable/);
  });

  it('a 401 says the credentials are not accepted', () => {
    const r = report(
      new KubeApiError(401, 'GET /api/v1/namespaces', {
        kind: 'Status',
        reason: 'Unauthorized',
        message: 'Unauthorized',
      }),
    );
    expect(r.code).toBe(1);
    expect(r.text).toMatch(/credentials .* not accepted/);
  });
});
