import { describe, expect, it } from 'vitest';
import type { Kube, KubeRequest } from '../../../src/kube/client.ts';
import { KubeApiError } from '../../../src/kube/client.ts';
import {
  createRecorder,
  legacyRecordName,
  readRestartRecord,
  recordName,
  type RestartRecord,
} from '../../../src/workloads/restart-record.ts';
import { manualClock } from '../../support/manual-clock.ts';

const prefix = '/api/v1/namespaces/default/configmaps';

/** ConfigMaps of namespace default held in a map, answering GET, PUT, POST and DELETE as the API server does (404 when absent). */
function configMaps(initial: Record<string, RestartRecord> = {}, opts: { forbidDelete?: boolean } = {}) {
  const store = new Map<string, Record<string, string>>(
    Object.entries(initial).map(([name, r]) => [name, { 'record.json': JSON.stringify(r) }]),
  );
  const requests: string[] = [];
  const kube = {
    async request<T>(r: KubeRequest): Promise<T> {
      const method = r.method ?? 'GET';
      requests.push(`${method} ${r.path}`);
      const body = r.body as { metadata: { name: string }; data: Record<string, string> } | undefined;
      if (method === 'POST' && r.path === prefix) {
        store.set(body!.metadata.name, body!.data);
        return body as T;
      }
      const name = r.path.slice(prefix.length + 1);
      if (method === 'DELETE' && opts.forbidDelete)
        throw new KubeApiError(403, `${method} ${r.path}`, {
          reason: 'Forbidden',
          message: 'cannot delete configmaps',
        });
      if (!store.has(name))
        throw new KubeApiError(404, `${method} ${r.path}`, {
          reason: 'NotFound',
          message: `configmaps "${name}" not found`,
        });
      if (method === 'GET') return { data: store.get(name) } as T;
      if (method === 'PUT') {
        store.set(name, body!.data);
        return body as T;
      }
      if (method === 'DELETE') {
        store.delete(name);
        return {} as T;
      }
      throw new Error(`unexpected ${method} ${r.path}`);
    },
  } as unknown as Kube;
  const record = (name: string) =>
    store.has(name) ? (JSON.parse(store.get(name)!['record.json']!) as RestartRecord) : undefined;
  return { kube, store, requests, record };
}

const stopped = (runId: string): RestartRecord => ({
  runId,
  operation: 'restart',
  targetVersion: '1.7.0',
  mode: 'all',
  startedAt: 't0',
  updatedAt: 't1',
  state: 'stopped-at-gate',
  maxFailures: 1,
  workloads: {
    'shop/Deployment/a': { state: 'rolled' },
    'shop/Deployment/b': { state: 'failed', reason: 'quota' },
    'shop/Deployment/c': { state: 'not-started' },
  },
});

describe('the restart record under its name, and under the name earlier versions wrote', () => {
  it('is named nsm-upgrade.<mesh namespace>.restart; earlier versions wrote nsm-upgrade.<mesh namespace>.reroll', () => {
    expect(recordName('nginx-mesh')).toBe('nsm-upgrade.nginx-mesh.restart');
    expect(legacyRecordName('nginx-mesh')).toBe('nsm-upgrade.nginx-mesh.reroll');
  });

  it('reads the record an earlier version wrote when there is none under the new name', async () => {
    const { kube } = configMaps({ 'nsm-upgrade.nginx-mesh.reroll': stopped('old') });
    expect(await readRestartRecord({ kube }, 'nginx-mesh')).toEqual(stopped('old'));
  });

  it('prefers the record under the new name when both exist (the old one is out of date)', async () => {
    const { kube } = configMaps({
      'nsm-upgrade.nginx-mesh.reroll': stopped('old'),
      'nsm-upgrade.nginx-mesh.restart': stopped('new'),
    });
    expect((await readRestartRecord({ kube }, 'nginx-mesh'))?.runId).toBe('new');
  });

  it('reads nothing when neither exists, or when the other mesh namespace has one', async () => {
    const { kube } = configMaps({ 'nsm-upgrade.other-mesh.reroll': stopped('old') });
    expect(await readRestartRecord({ kube }, 'nginx-mesh')).toBeUndefined();
  });

  it('writes the new record, then deletes the old one, once', async () => {
    const { clock, advance } = manualClock();
    const { kube, record, requests } = configMaps({ 'nsm-upgrade.nginx-mesh.reroll': stopped('old') });
    const warnings: string[] = [];
    const recorder = createRecorder(
      { kube, clock },
      'nginx-mesh',
      { ...stopped('run2'), state: 'running', workloads: {} },
      { everyMs: 0, warn: (m) => warnings.push(m) },
    );
    recorder.set({ namespace: 'shop', kind: 'Deployment', name: 'b' }, 'rolled');
    await advance(1);
    await recorder.flush('finished');
    expect(record('nsm-upgrade.nginx-mesh.restart')).toMatchObject({
      runId: 'run2',
      state: 'finished',
      workloads: { 'shop/Deployment/b': { state: 'rolled' } },
    });
    expect(record('nsm-upgrade.nginx-mesh.reroll')).toBeUndefined();
    expect(requests.filter((r) => r.startsWith('DELETE'))).toEqual([`DELETE ${prefix}/nsm-upgrade.nginx-mesh.reroll`]);
    expect(warnings).toEqual([]);
    expect((await readRestartRecord({ kube }, 'nginx-mesh'))?.runId).toBe('run2');
  });

  it('a record it may not delete is named in a warning, and the restart goes on reading the new one', async () => {
    const { clock } = manualClock();
    const { kube, record } = configMaps({ 'nsm-upgrade.nginx-mesh.reroll': stopped('old') }, { forbidDelete: true });
    const warnings: string[] = [];
    const recorder = createRecorder(
      { kube, clock },
      'nginx-mesh',
      { ...stopped('run2'), state: 'running', workloads: {} },
      { warn: (m) => warnings.push(m) },
    );
    await recorder.flush('finished');
    expect(record('nsm-upgrade.nginx-mesh.restart')?.runId).toBe('run2');
    expect(warnings).toEqual([
      expect.stringContaining('kubectl delete configmap -n default nsm-upgrade.nginx-mesh.reroll'),
    ]);
    expect((await readRestartRecord({ kube }, 'nginx-mesh'))?.runId).toBe('run2');
  });
});
