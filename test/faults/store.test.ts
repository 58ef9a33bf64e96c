/**
 * The session store killed and restarted under load (Redis: SIGKILL; Postgres: an
 * immediate abort), with the durable store of scripts/services.sh (SERVICES_DURABLE=1,
 * the faults stage's own instance). While it is down every turn is a fast 503
 * store_unavailable (never 500, never a 504 that blames the model); within 2 s of
 * its return turns succeed again; afterwards every session holds every answered
 * turn, in order.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chat, configured, countBy, errorCode, faults, type Reply, rssSampler, sleep, writeFragment } from './lib/harness.js';
import { startUpstream, type Upstream } from './lib/upstream.js';

const run = promisify(execFile);
const SESSIONS = 12;
const CONCURRENCY = 6;
const UP_BEFORE_MS = 3000;
const DOWN_MS = 6000;
const UP_AFTER_MS = 5000;
const RECOVERY_LIMIT_S = 2;
// A down store must be refused fast (STORE_TIMEOUT=2 s in the container), not at REQUEST_TIMEOUT.
const OUTAGE_ANSWER_LIMIT_MS = 4000;

const durable = faults.store === 'redis' || faults.store === 'postgres';

async function services(command: 'kill' | 'start'): Promise<void> {
  await run('bash', ['scripts/services.sh', command, faults.store], { env: { ...process.env, SERVICES_DURABLE: '1' }, timeout: 60_000 });
}

interface Turn {
  session: string;
  message: string;
  reply: Reply;
  sentAt: number;
}

describe.skipIf(!configured || !durable)(`the ${faults.store} store killed and restarted under load`, () => {
  let upstream: Upstream;
  const turns: Turn[] = [];
  const figures: Record<string, unknown> = {};

  beforeAll(async () => {
    upstream = await startUpstream(faults.upstreamPort);
  });
  afterAll(async () => {
    await upstream?.close();
    writeFragment('store', { store: faults.store, ...figures, requests_by_status: countBy(turns, (t) => statusOf(t.reply)) });
  });

  const statusOf = (r: Reply) => (r.status === 0 ? 'no answer' : `${r.status}${errorCode(r) ? ` ${errorCode(r)}` : ''}`);

  it('503 store_unavailable while down, fast; 200 again within 2 s of its return; no session loses an answered turn', async () => {
    const sessions = Array.from({ length: SESSIONS }, (_, i) => `faults-store-${Date.now().toString(36)}-${i}`);
    for (const s of sessions) {
      const first = await chat(`first turn of ${s}`, s);
      expect(first.status, first.text).toBe(200);
      turns.push({ session: s, message: `first turn of ${s}`, reply: first, sentAt: performance.now() });
    }
    const sampler = rssSampler(500);
    await sampler.start();
    const t0 = performance.now();
    let killedAt = 0;
    let restartingAt = 0;
    let returnedAt = 0;
    let stop = false;
    let n = 0;
    // Each worker has its own sessions, so a session's turns are sequential and its
    // stored order is the order they were answered in.
    const worker = async (w: number) => {
      const mine = sessions.filter((_, i) => i % CONCURRENCY === w);
      for (let k = 0; !stop; k++) {
        const session = mine[k % mine.length]!;
        const message = `turn ${n++} of ${session}`;
        const sentAt = performance.now();
        const reply = await chat(message, session, 30_000);
        turns.push({ session, message, reply, sentAt });
        if (reply.status !== 200) await sleep(100);
      }
    };
    const load = Array.from({ length: CONCURRENCY }, (_, w) => worker(w));
    await sleep(UP_BEFORE_MS);
    await services('kill');
    killedAt = performance.now();
    await sleep(DOWN_MS);
    restartingAt = performance.now();
    await services('start');
    returnedAt = performance.now();
    await sleep(UP_AFTER_MS);
    stop = true;
    await Promise.all(load);
    const memory = await sampler.stop();

    const firstOkAfterReturn = turns.filter((t) => t.sentAt >= returnedAt && t.reply.status === 200).map((t) => t.sentAt + t.reply.ms);
    const recovery = firstOkAfterReturn.length ? (Math.min(...firstOkAfterReturn) - returnedAt) / 1000 : undefined;
    // Sent after the kill and answered before the restart began: the store was down throughout.
    const duringOutage = turns.filter((t) => t.sentAt > killedAt + 500 && t.sentAt + t.reply.ms < restartingAt);
    Object.assign(figures, {
      rss: memory,
      store_down_s: Number(((returnedAt - killedAt) / 1000).toFixed(1)),
      recovery_s: recovery === undefined ? undefined : Number(recovery.toFixed(2)),
      slowest_outage_answer_ms: Math.round(Math.max(0, ...duringOutage.map((t) => t.reply.ms))),
      load_s: Number(((performance.now() - t0) / 1000).toFixed(1)),
    });

    const statuses = turns.map((t) => statusOf(t.reply));
    expect(statuses.filter((s) => s.startsWith('5') && !s.startsWith('503 store_unavailable')), JSON.stringify(countBy(turns, (t) => statusOf(t.reply)))).toEqual([]);
    expect(statuses.filter((s) => s === 'no answer')).toEqual([]);
    expect(duringOutage.length).toBeGreaterThan(0);
    for (const t of duringOutage) expect(statusOf(t.reply)).toBe('503 store_unavailable');
    expect(figures.slowest_outage_answer_ms as number).toBeLessThan(OUTAGE_ANSWER_LIMIT_MS);
    expect(recovery, 'no turn succeeded after the store returned').toBeDefined();
    expect(recovery!).toBeLessThan(RECOVERY_LIMIT_S);

    // Every answered turn is in its session, in order (a turn that failed may or may
    // not have been stored: its write can have landed before the store went away).
    let intact = 0;
    for (const s of sessions) {
      const reply = await chat('fault:history', s);
      expect(reply.status, reply.text).toBe(200);
      const history = JSON.parse(String((JSON.parse(reply.text) as { answer: string }).answer)) as string[];
      const answered = turns.filter((t) => t.session === s && t.reply.status === 200).map((t) => t.message);
      const inOrder = history.filter((m) => answered.includes(m));
      expect(inOrder, `session ${s}`).toEqual(answered);
      intact += 1;
    }
    figures.sessions_intact = `${intact}/${SESSIONS}`;
  });
});
