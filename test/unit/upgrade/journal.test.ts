import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { appendJournal, parseJournal, readJournal } from '../../../src/upgrade/journal.ts';
import { UsageError } from '../../../src/errors.ts';
import type { Plan } from '../../../src/upgrade/types.ts';

const plan = { from: '1.6.0', to: '1.7.0', namespace: 'nginx-mesh', method: 'meshctl', environment: 'kubernetes', release: 'nginx-service-mesh', hops: [], warnings: [], refusals: [] } as unknown as Plan;

describe('journal', () => {
  it('records the plan first and each finished step, and reads them back', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'journal-'));
    await appendJournal(fs, dir, { type: 'run', runId: 'r1', at: 't', plan, toolVersion: '0.1.0', argv: [] });
    await appendJournal(fs, dir, { type: 'step', runId: 'r1', at: 't', step: 'hop1.backup', status: 'done', data: { objects: 3 } });
    await appendJournal(fs, dir, { type: 'resume', runId: 'r2', at: 't', previousRunId: 'r1' });
    await appendJournal(fs, dir, { type: 'step', runId: 'r2', at: 't', step: 'hop1.remove', status: 'done' });
    const st = await readJournal(fs, dir);
    expect(st.plan).toEqual(plan);
    expect([...st.done]).toEqual(['hop1.backup', 'hop1.remove']);
    expect(st.data.get('hop1.backup')).toEqual({ objects: 3 });
    expect(st.runId).toBe('r2');
    expect(st.finished).toBe(false);
    expect((await fs.stat(path.join(dir, 'journal.ndjson'))).mode & 0o777).toBe(0o600);
  });

  it('ignores a torn last line (killed mid-write) but refuses damage elsewhere', () => {
    const run = JSON.stringify({ type: 'run', runId: 'r', at: 't', plan, toolVersion: 'x', argv: [] });
    const step = JSON.stringify({ type: 'step', runId: 'r', at: 't', step: 'hop1.backup', status: 'done' });
    expect([...parseJournal(`${run}\n${step}\n{"type":"st`, 'j').done]).toEqual(['hop1.backup']);
    expect(() => parseJournal(`${run}\n{"type":"st\n${step}\n`, 'j')).toThrow(UsageError);
    expect(() => parseJournal(`${step}\n`, 'j')).toThrow(/does not start with a run record/);
  });

  it('says how to resume when the directory has no journal', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'journal-'));
    await expect(readJournal(fs, dir)).rejects.toThrow(/no journal at/);
  });
});
