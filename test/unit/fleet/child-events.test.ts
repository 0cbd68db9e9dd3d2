import { describe, expect, it } from 'vitest';
import { StepTracker, parseEventLine, type RunEvent } from '../../../src/fleet/child-events.ts';

const steps = ['preflight', 'confirm', 'lease', 'hop1.backup', 'hop1.upgrade', 'hop1.verify'].map((id) => ({ id }));
/** An event as a run writes it; a start's title defaults to the step id. */
const ev = (step: string, event: RunEvent['event'], more: Record<string, unknown> = {}): RunEvent =>
  ({ at: 't', step, event, ...(event === 'start' ? { title: step } : {}), ...more }) as RunEvent;

async function settled(t: StepTracker, ids: string[]): Promise<string[]> {
  return Promise.all(
    ids.map((id) =>
      t.outcome(id).then(
        (o) => (o.kind === 'done' ? `done${o.note ? ` ${o.note}` : ''}` : `skipped ${o.reason}`),
        (e: Error) => `failed ${e.message}`,
      ),
    ),
  );
}

describe("a run's JSON events", () => {
  it('parses event lines and nothing else', () => {
    expect(parseEventLine('{"at":"t","step":"hop1.backup","event":"start","title":"Back up"}')).toEqual({
      at: 't',
      step: 'hop1.backup',
      event: 'start',
      title: 'Back up',
    });
    expect(parseEventLine('NSM is already on 2.0.0; nothing to do.')).toBeUndefined();
    expect(parseEventLine('{"step":"x","event":"exploded"}')).toBeUndefined();
    expect(parseEventLine('{"step":1,"event":"start"}')).toBeUndefined();
    expect(parseEventLine('{not json')).toBeUndefined();
  });
});

describe('StepTracker: the task group of one cluster', () => {
  it('a whole run: every step done or skipped as its events say, titles and notes kept', async () => {
    const t = new StepTracker(steps);
    const progress: string[] = [];
    t.onProgress('hop1.upgrade', (m) => progress.push(m));
    for (const e of [
      ev('preflight', 'start', { title: 'Preflight: API' }),
      ev('preflight', 'done', { message: 'passed' }),
      ev('confirm', 'skipped', { reason: '--yes given' }),
      ev('lease', 'start'),
      ev('lease', 'done', { message: 'held by run r1' }),
      ev('hop1.backup', 'start'),
      ev('hop1.backup', 'done'),
      ev('hop1.upgrade', 'start'),
      ev('hop1.upgrade', 'progress', { message: 'helm upgrade' }),
      ev('hop1.upgrade', 'done'),
      ev('hop1.verify', 'start'),
      ev('hop1.verify', 'done', { skipped: 'nothing to compare' }),
    ])
      t.feed(e);
    t.exit(0, '');
    expect(
      await settled(
        t,
        steps.map((s) => s.id),
      ),
    ).toEqual(['done passed', 'skipped --yes given', 'done held by run r1', 'done', 'done', 'done nothing to compare']);
    expect(t.title('preflight')).toBe('Preflight: API');
    expect(progress).toEqual(['helm upgrade']);
  });

  it('a resumed run says nothing of the steps its journal holds: they were done before', async () => {
    const t = new StepTracker(steps);
    for (const e of [
      ev('preflight', 'done'),
      ev('confirm', 'skipped', { reason: '--yes given' }),
      ev('lease', 'done'),
      ev('hop1.upgrade', 'start'),
      ev('hop1.upgrade', 'done'),
      ev('hop1.verify', 'done'),
    ])
      t.feed(e);
    t.exit(0, '');
    expect((await settled(t, ['hop1.backup']))[0]).toBe('skipped done before (journal)');
  });

  it('a failed step fails with its error; the steps after it are never settled', async () => {
    const t = new StepTracker(steps);
    for (const e of [
      ev('preflight', 'done'),
      ev('confirm', 'skipped', { reason: 'y' }),
      ev('lease', 'done'),
      ev('hop1.backup', 'done'),
      ev('hop1.upgrade', 'start'),
      ev('hop1.upgrade', 'failed', { error: 'exit status 1' }),
    ])
      t.feed(e);
    t.exit(1, 'step "hop1.upgrade" failed: exit status 1');
    expect(await settled(t, ['hop1.upgrade'])).toEqual(['failed exit status 1']);
    const verify = await Promise.race([
      t.outcome('hop1.verify').then(
        () => 'settled',
        () => 'settled',
      ),
      new Promise((r) => setTimeout(() => r('waiting'), 20)),
    ]);
    expect(verify).toBe('waiting');
  });

  it('a run that ends badly without naming a step (killed, refused before its first event) fails the first step still waiting', async () => {
    const t = new StepTracker(steps);
    t.feed(ev('preflight', 'done'));
    t.exit(3, 'the lease is held by run abc');
    expect(await settled(t, ['confirm'])).toEqual(['failed the lease is held by run abc']);
  });

  it('a run with nothing to do: every step skipped with what it printed', async () => {
    const t = new StepTracker(steps);
    t.exit(0, 'NSM is already on 2.0.0; nothing to do.');
    expect(await settled(t, ['preflight', 'hop1.verify'])).toEqual([
      'skipped NSM is already on 2.0.0; nothing to do.',
      'skipped NSM is already on 2.0.0; nothing to do.',
    ]);
  });

  it('events of steps it does not know are ignored; outcome of an unknown step is a skip', async () => {
    const t = new StepTracker(steps);
    t.feed(ev('hop2.upgrade', 'failed', { error: 'x' }));
    t.exit(0, '');
    expect(await t.outcome('hop9.x')).toMatchObject({ kind: 'skipped' });
  });
});
