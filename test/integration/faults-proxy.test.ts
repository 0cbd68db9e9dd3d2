/**
 * The fault proxy itself, against the real API server: it listens on loopback only, forwards with
 * the admin certificate or the client's own bearer token (a ServiceAccount keeps its identity),
 * spares watches, answers the configured faults as the API server would, and closes itself after
 * its request or time budget.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKube, KubeApiError, type Kube } from '../../src/kube/client.ts';
import { loadKubeConfig } from '../../src/kube/kubeconfig.ts';
import { kubectl, runTool, testKube, uniqueName } from '../support/cluster.ts';
import { expectRealTransport, realServerProtocol, startFaultProxy, type FaultProxy } from '../support/fault-proxy.ts';
import { http2RetryableCodes } from '../../src/kube/transport.ts';

const ns = uniqueName('proxy');
const proxies: FaultProxy[] = [];
let token = '';

async function start(opts: Parameters<typeof startFaultProxy>[0]): Promise<FaultProxy> {
  const p = await startFaultProxy(opts);
  proxies.push(p);
  return p;
}

async function clientFor(p: FaultProxy, opts: Parameters<typeof createKube>[1] = {}): Promise<Kube> {
  return createKube(loadKubeConfig({ kubeconfig: p.kubeconfigPath }), {
    retry: { attempts: 1, baseDelayMs: 10, maxDelayMs: 10 },
    ...opts,
  });
}

/** What a request that lost its connection fails with: a reset socket (HTTP/1.1) or a reset stream (HTTP/2). */
const lostConnection = new RegExp(['ECONNRESET', 'socket hang up', ...http2RetryableCodes].join('|'));

async function whoami(kube: Kube): Promise<string> {
  const r = await kube.request<{ status: { userInfo: { username: string } } }>({
    method: 'POST',
    path: '/apis/authentication.k8s.io/v1/selfsubjectreviews',
    body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
  });
  return r.status.userInfo.username;
}

beforeAll(async () => {
  await kubectl(['create', 'namespace', ns]);
  await kubectl(['create', 'serviceaccount', 'prober', '-n', ns]);
  token = (await kubectl(['create', 'token', 'prober', '-n', ns, '--duration', '10m'])).stdout.trim();
});

afterAll(async () => {
  for (const p of proxies) await p.close();
  await (await testKube()).request({ method: 'DELETE', path: `/api/v1/namespaces/${ns}` }).catch(() => undefined);
});

describe('fault proxy', () => {
  it('listens on 127.0.0.1 only, with a certificate the cluster CA signed', async () => {
    const p = await start({ rate: 0, seed: 1, maxSeconds: 60 });
    expect(new URL(p.url).hostname).toBe('127.0.0.1');
    // TLS verification against the cluster CA is on: the client would refuse an unsigned certificate.
    expect((await (await clientFor(p)).request<{ kind: string }>({ path: '/api/v1/namespaces/default' })).kind).toBe(
      'Namespace',
    );
  });

  it('forwards with the admin certificate, or with the client token and no certificate (identity kept)', async () => {
    const admin = await start({ rate: 0, seed: 1, maxSeconds: 60 });
    const sa = await start({ rate: 0, seed: 1, maxSeconds: 60, token });
    expect(await whoami(await clientFor(admin))).toBe(await whoami(await testKube()));
    expect(await whoami(await clientFor(sa))).toBe(`system:serviceaccount:${ns}:prober`);
    // The ServiceAccount has no rights: a forbidden list proves the admin certificate was not added.
    const denied = await (await clientFor(sa)).request({ path: '/api/v1/secrets' }).catch((e: unknown) => e);
    expect((denied as KubeApiError).status).toBe(403);
  });

  it('answers 429 with Retry-After: 1 and a Status body; 500 and 503 likewise', async () => {
    for (const [kind, status] of [
      ['throttle', 429],
      ['error500', 500],
      ['unavailable', 503],
    ] as const) {
      const p = await start({ rate: 1, seed: 1, kinds: [kind], maxSeconds: 60 });
      const err = (await (
        await clientFor(p)
      )
        .request({ path: '/api/v1/namespaces' })
        .catch((e: unknown) => e)) as KubeApiError;
      expect(err.status).toBe(status);
      expect(err.message).toContain('fault-proxy injected');
      expect(p.stats.injected[kind]).toBe(1);
    }
  });

  it('speaks what the real API server speaks (HTTP/2 by ALPN) to the tool, and HTTP/1.1 to a client that asks for it', async () => {
    const p = await start({ rate: 0, seed: 1, maxSeconds: 60 });
    const auto = await clientFor(p);
    await auto.request({ path: '/api/v1/namespaces/default' });
    await expectRealTransport(p);
    expect(auto.protocol).toBe((await realServerProtocol()) === '2.0' ? 'h2' : 'http/1.1');
    const q = await start({ rate: 0, seed: 1, maxSeconds: 60 });
    await (await clientFor(q, { http: '1.1' })).request({ path: '/api/v1/namespaces/default' });
    expect(q.stats.toolProtocols).toEqual({ '1.1': 1 });
  });

  it('the CLI speaks HTTP/1.1 with NSM_UPGRADE_HTTP=1.1, and refuses another value (exit 2)', async () => {
    const p = await start({ rate: 0, seed: 1, maxSeconds: 60 });
    const args = ['status', '--kubeconfig', p.kubeconfigPath, '--mesh-namespace', `${ns}-none`];
    const r = await runTool(args, { env: { NSM_UPGRADE_HTTP: '1.1' } });
    expect(r.stderr).toMatch(/no NGINX Service Mesh control plane/);
    expect(Object.keys(p.stats.toolProtocols)).toEqual(['1.1']);
    const bad = await runTool(args, { env: { NSM_UPGRADE_HTTP: '3' } });
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/NSM_UPGRADE_HTTP="3" is not a choice/);
  });

  it('resets the request for a reset fault (the client sees a socket error, or a reset stream over HTTP/2)', async () => {
    for (const http of ['auto', '1.1'] as const) {
      const p = await start({ rate: 1, seed: 1, kinds: ['reset'], maxSeconds: 60 });
      const err = (await (
        await clientFor(p, { http })
      )
        .request({ path: '/api/v1/namespaces' })
        .catch((e: unknown) => e)) as NodeJS.ErrnoException;
      expect(err).toBeInstanceOf(Error);
      // Over HTTP/1.1 exactly the socket error the base test asserted; over HTTP/2 a reset stream may stand for it.
      expect(`${err.code} ${err.message}`).toMatch(http === '1.1' ? /ECONNRESET|socket hang up/ : lostConnection);
    }
  });

  it('drops a whole HTTP/2 connection: every request on it fails, the client opens a new one and retries', async () => {
    // Only the one request is dropped; a watch multiplexed on the same connection dies with it.
    let dropped = 0;
    const p = await start({
      rate: 1,
      seed: 1,
      kinds: ['dropConnection'],
      maxSeconds: 60,
      match: (_m, url) => url.startsWith('/api/v1/namespaces/default?drop') && dropped++ === 0,
    });
    const kube = await clientFor(p, { retry: { attempts: 3, baseDelayMs: 10, maxDelayMs: 10 } });
    const stop = new AbortController();
    let settledAt = 0;
    const watching = kube
      .watch(
        '/api/v1/namespaces',
        { timeoutSeconds: 30, fieldSelector: 'metadata.name=default' },
        () => undefined,
        stop.signal,
      )
      .catch((e: NodeJS.ErrnoException) => expect(`${e.code} ${e.message}`).toMatch(lostConnection))
      .finally(() => {
        settledAt = Date.now();
      });
    await new Promise((r) => setTimeout(r, 300));
    const asked = Date.now();
    expect(
      (await kube.request<{ kind: string }>({ path: '/api/v1/namespaces/default', query: { drop: 1 } })).kind,
    ).toBe('Namespace');
    expect(p.stats.injected.dropConnection).toBe(1);
    expect(kube.retries).toBe(1);
    await expectRealTransport(p);
    // Over HTTP/2 the watch shared the dropped connection: it ends at once (its caller watches again), not after its 30 s.
    if (kube.protocol === 'h2') {
      await watching;
      expect(settledAt - asked).toBeLessThan(5_000);
    }
    stop.abort();
    await watching;
  });

  it('spares watches at rate 1 unless faultWatches is set', async () => {
    const p = await start({ rate: 1, seed: 1, kinds: ['unavailable'], maxSeconds: 60 });
    const kube = await clientFor(p);
    const events: string[] = [];
    await kube.watch('/api/v1/namespaces', { timeoutSeconds: 1, fieldSelector: 'metadata.name=default' }, (e) =>
      events.push(e.type),
    );
    expect(events).toContain('ADDED');
    expect(p.stats.injected.unavailable).toBe(0);
    const q = await start({ rate: 1, seed: 1, kinds: ['unavailable'], faultWatches: true, maxSeconds: 60 });
    await expect(
      (await clientFor(q)).watch('/api/v1/namespaces', { timeoutSeconds: 1 }, () => undefined),
    ).rejects.toThrow(/503/);
  });

  it('closes itself after maxRequests and after maxSeconds', async () => {
    const p = await start({ rate: 0, seed: 1, maxSeconds: 60, maxRequests: 2 });
    const kube = await clientFor(p);
    await kube.request({ path: '/api/v1/namespaces/default' });
    await kube.request({ path: '/api/v1/namespaces/default' });
    await new Promise((r) => setTimeout(r, 200));
    await expect(kube.request({ path: '/api/v1/namespaces/default' })).rejects.toThrow(
      /ECONNREFUSED|socket hang up|ECONNRESET|ERR_HTTP2/,
    );

    const t = await start({ rate: 0, seed: 1, maxSeconds: 1 });
    const k2 = await clientFor(t);
    await k2.request({ path: '/api/v1/namespaces/default' });
    await new Promise((r) => setTimeout(r, 1500));
    await expect(k2.request({ path: '/api/v1/namespaces/default' })).rejects.toThrow(
      /ECONNREFUSED|socket hang up|ECONNRESET|ERR_HTTP2/,
    );
  });
});
