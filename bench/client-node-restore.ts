/**
 * The restore of a backup through @kubernetes/client-node's generic object API
 * (`KubernetesObjectApi.create`), C creates in flight: the comparison issue 18 asks for, beside our
 * own HTTP client over client-node's KubeConfig. It reads and verifies the backup as ours does, and
 * retries what ours retries (429, 5xx, connection errors). Run by bench/backup-restore.ts under
 * /usr/bin/time -v; prints {"created": N, "failed": N, "retries": N} on stdout.
 *
 *   node bench/client-node-restore.ts --kubeconfig FILE --from DIR [--concurrency 32]
 *
 * Its create takes no fieldValidation parameter: the server applies its default (Warn), where ours
 * asks for Strict, as kubectl create does. Strict costs the server a little more, not less.
 */
import fs from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { ApiException, KubeConfig, KubernetesObjectApi } from '@kubernetes/client-node';
import { verifyBackup } from '../src/backup/verify.ts';
import { mapLimit } from '../src/concurrency.ts';

const { values: args } = parseArgs({
  options: { kubeconfig: { type: 'string' }, from: { type: 'string' }, concurrency: { type: 'string', default: '32' } },
});
if (!args.kubeconfig || !args.from)
  throw new Error('usage: client-node-restore.ts --kubeconfig FILE --from DIR [--concurrency 32]');
const kc = new KubeConfig();
kc.loadFromFile(args.kubeconfig);
const api = KubernetesObjectApi.makeApiClient(kc);
const backup = await verifyBackup(fs, args.from);
const objects = backup.kinds.flatMap((k) => k.objects);
let created = 0;
let failed = 0;
let retries = 0;
const transient = (err: unknown) =>
  (err instanceof ApiException && [429, 500, 502, 503, 504].includes(err.code)) ||
  /ECONNRESET|ECONNREFUSED|ETIMEDOUT|EPIPE|socket hang up/.test(String((err as Error)?.message));
await mapLimit(objects, Number(args.concurrency), async (obj) => {
  for (let attempt = 0; ; attempt++) {
    try {
      await api.create(obj);
      created++;
      return;
    } catch (err) {
      if (!transient(err) || attempt >= 10) {
        failed++;
        return;
      }
      retries++;
      await new Promise((r) => setTimeout(r, Math.min(5000, 200 * 2 ** attempt)));
    }
  }
});
process.stdout.write(`${JSON.stringify({ created, failed, retries })}\n`);
