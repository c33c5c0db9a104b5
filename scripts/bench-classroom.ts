/**
 * npm run bench:classroom: 30 tabs' session stacks (SessionNode, the same code as the browser's) in one process over
 * the in-memory network, a tiny MLP trained for real on MNIST shards, 50 rounds, with student reloads, a host reload
 * (it takes control back with its key), Stop/Resume, link flaps and tabs that leave without a goodbye. Session timings
 * are a tenth of the app's (heartbeat 100 ms, silence 500 ms), so it runs in seconds. Prints, and with --out writes,
 * the report.
 */
import { writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { subsetDataset } from '../src/fl/data/dataset';
import { loadMnistNode } from '../src/fl/data/node-loaders';
import { partitionIndices } from '../src/fl/data/partition';
import { splitTrainEval } from '../src/fl/data/split';
import { InMemoryNetwork } from '../src/fl/in-memory-transport';
import { TfLocalTrainer } from '../src/fl/local-trainer';
import { buildModel, getWeights, mlpSpec } from '../src/fl/models';
import type { SessionConfig } from '../src/fl/protocol';
import { hostCommitment, hostProof, randomHostSeed } from '../src/session/host-key';
import { SessionNode } from '../src/session/session-node';
import { projectSession } from '../src/session/session-projection';

const TABS = 30;
const ROUNDS = 50;
const TIMING = { heartbeatMs: 100, silenceMs: 500, voteTimeoutMs: 200, retryRoundMs: 50, welcomeTimeoutMs: 3_000, memberEstablishedMs: 500, memberRecentMs: 60_000 };
/**
 * Header agreement target: the issue's 1 s, not scaled with the timings. A record goes out the moment it changes (the
 * heartbeat only repeats it), so what delays it here is its delivery waiting behind other tabs' training, which runs
 * on this one thread (in browsers each tab has its own).
 */
const HEADER_TARGET_MS = 1_000;
/** No round finished for this long while the run should go on: a stuck state. */
const STUCK_MS = 15_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const out = process.argv.includes('--out') ? process.argv[process.argv.indexOf('--out') + 1] : null;
  await tf.setBackend('cpu');
  const hidden = [8];
  const spec = mlpSpec([28, 28, 1], 10, hidden);
  const seed = randomHostSeed();
  const config: SessionConfig = {
    model: spec,
    strategy: { name: 'fedavg' },
    train: { localEpochs: 1, batchSize: 16, learningRate: 0.1 },
    rounds: ROUNDS,
    minClients: 2,
    fraction: 0.2,
    roundDeadlineMs: 2_000,
    decomposition: 'off',
    decompositionEvery: 1,
    codec: 'float32',
    seed: 5,
    demo: { partition: { kind: 'iid' }, clients: TABS },
    hostCommitment: hostCommitment(seed),
  };
  const train = loadMnistNode('train', TABS * 40);
  const parts = partitionIndices(train.labels, 10, TABS, { kind: 'iid' }, 1);
  const trainers = parts.clients.map((idx, k) => {
    const local = splitTrainEval(subsetDataset(train, idx), 0.2, k);
    return new TfLocalTrainer(local.train, local.eval, () => 'cpu');
  });

  const down = new Set<string>();
  const key = (a: string, b: string) => [a, b].sort().join('|');
  const network = new InMemoryNetwork({ plan: (from, to) => (down.has(key(from, to)) ? { drop: true } : undefined) });
  const tabs = new Map<string, SessionNode>();
  const events: string[] = [];
  let generation = 0;
  const open = (slot: number): SessionNode => {
    const id = `tab-${slot}-${generation++}`;
    const node = new SessionNode({ transport: network.endpoint(id), name: `tab ${slot}`, clientKey: `key-${slot}`, trainer: () => trainers[slot], timing: TIMING });
    tabs.set(id, node);
    return node;
  };
  /** A tab that goes away without a goodbye (closed, or reloaded): its links drop, its page is gone. */
  const vanish = (id: string) => {
    network.disconnect(id);
    tabs.get(id)?.leave();
    tabs.delete(id);
  };
  const aggregators = () => [...tabs.values()].filter((n) => n.isAggregator);
  const aggregator = () => aggregators().sort((a, b) => b.term - a.term)[0] ?? null;
  const slotOf = (id: string) => Number(id.split('-')[1]);

  const host = open(0);
  await host.host(config, await getWeights(buildModel(spec, 5)));
  for (let k = 1; k < TABS; k++) await open(k).join(host.selfId);
  void host.start();
  const started = Date.now();

  let twoAggregatorsSince: number | null = null;
  let longestTwoAggregatorsMs = 0;
  /** Per tab in the aggregator's round (connected to it), and per tab at all (also while it reconnects or rejoins). */
  const disagreeSince = { connected: new Map<string, number>(), all: new Map<string, number>() };
  const longestDisagreementMs = { connected: 0, all: 0 };
  const firstMismatch = new Map<string, string>();
  let lastRound = 0;
  let lastProgressAt = Date.now();
  let stuck = 0;
  const done = new Set<string>();
  const once = (what: string, round: number, every: number) => {
    const mark = `${what}@${Math.floor(round / every)}`;
    if (round === 0 || round % every !== 0 || done.has(mark)) return false;
    done.add(mark);
    return true;
  };
  let hostGone = false;
  let stopped = false;
  const students = () => [...tabs.keys()].filter((id) => slotOf(id) !== 0 && !tabs.get(id)!.isAggregator);
  const pick = (ids: string[]) => ids[Math.floor(Math.random() * ids.length)];

  while (Date.now() - started < 240_000) {
    await sleep(50);
    const agg = aggregator();
    const now = Date.now();
    const many = aggregators().length > 1;
    if (many) twoAggregatorsSince ??= now;
    else if (twoAggregatorsSince !== null) {
      longestTwoAggregatorsMs = Math.max(longestTwoAggregatorsMs, now - twoAggregatorsSince);
      twoAggregatorsSince = null;
    }
    if (!agg) continue;
    const round = agg.currentRound;
    if (round >= ROUNDS && agg.sessionRecord?.phase === 'finished') break;
    // Every tab's header (its projection of the record it holds) against the aggregator's.
    // As the aggregator's own controller projects it: from its record alone.
    const truth = projectSession({ record: agg.sessionRecord, connecting: false, roundsKnown: 0, totalRounds: ROUNDS });
    const connected = new Set(agg.clients.map((c) => c.id));
    for (const [id, node] of tabs) {
      if (node === agg || !node.config) continue;
      const view = projectSession({ record: node.sessionRecord, connecting: false, roundsKnown: node.currentRound, totalRounds: ROUNDS });
      const same = view.status === truth.status && view.currentRound === truth.currentRound && view.stopping === truth.stopping;
      for (const scope of ['connected', 'all'] as const) {
        const counts = scope === 'all' || connected.has(id);
        const since = disagreeSince[scope].get(id);
        if (same || !counts) {
          if (since !== undefined && scope === 'connected' && now - since > HEADER_TARGET_MS) events.push(`for ${now - since} ms ${firstMismatch.get(id)}`);
          if (since !== undefined) longestDisagreementMs[scope] = Math.max(longestDisagreementMs[scope], now - since);
          disagreeSince[scope].delete(id);
        } else if (since === undefined) {
          disagreeSince[scope].set(id, now);
          if (scope === 'connected') firstMismatch.set(id, `${id} read ${view.status}/${view.currentRound}${view.stopping ? '/stopping' : ''} (term ${node.sessionRecord?.term}) while ${agg.selfId} read ${truth.status}/${truth.currentRound}${truth.stopping ? '/stopping' : ''} (term ${agg.term})`);
        }
      }
    }
    if (round > lastRound) {
      lastRound = round;
      lastProgressAt = now;
    } else if (now - lastProgressAt > STUCK_MS) {
      stuck++;
      events.push(`stuck at round ${round}: ${agg.sessionRecord?.phase} (${agg.sessionRecord?.reason ?? 'no reason'})`);
      lastProgressAt = now;
    }

    if (once('reload', round, 5)) {
      const id = pick(students());
      vanish(id);
      events.push(`round ${round}: ${id} reloads`);
      const again = open(slotOf(id));
      void again.join(agg.selfId).catch((e) => events.push(`${id} could not rejoin: ${String(e)}`));
    }
    if (once('leave', round, 4)) {
      const id = pick(students());
      vanish(id);
      events.push(`round ${round}: ${id} leaves without a goodbye`);
    }
    if (once('flap', round, 7)) {
      const id = pick(students());
      down.add(key(id, agg.selfId));
      network.cutLink(id, agg.selfId);
      events.push(`round ${round}: the link ${id} - ${agg.selfId} flaps for 300 ms`);
      setTimeout(() => {
        down.delete(key(id, agg.selfId));
        network.restoreLink(id, agg.selfId);
      }, 300);
    }
    if (round >= 20 && !hostGone) {
      hostGone = true;
      const hostId = [...tabs.keys()].find((id) => slotOf(id) === 0)!;
      vanish(hostId);
      events.push(`round ${round}: the host's tab reloads`);
      await sleep(1_000);
      // Back as a client of whoever aggregates now, it reclaims control with its key.
      const back = open(0);
      const now = aggregator();
      if (now) {
        await back.join(now.selfId).catch((e) => events.push(`the host could not rejoin: ${String(e)}`));
        const proof = back.config?.hostCommitment ? hostProof(seed, back.config.hostCommitment) : null;
        if (proof) back.reclaim(proof);
        events.push(`the host rejoined ${now.selfId} and asked for control`);
      }
    }
    if (round >= 30 && !stopped && agg.isRunning) {
      stopped = true;
      agg.stop();
      events.push(`round ${round}: Stop`);
      while (aggregator()?.isRunning) await sleep(20);
      await sleep(2 * TIMING.heartbeatMs);
      const current = aggregator()!;
      const stoppedTabs = [...tabs.values()].filter((n) => n.config && n.sessionRecord?.phase === 'stopped').length;
      events.push(`stopped after round ${current.currentRound}: ${stoppedTabs} of ${tabs.size} tabs read "stopped"; Resume`);
      void current.start();
      lastProgressAt = Date.now();
    }
  }

  const final = aggregator();
  const rounds = final?.rounds.map((r) => r.round) ?? [];
  const lost = Array.from({ length: ROUNDS }, (_, i) => i + 1).filter((r) => !rounds.includes(r));
  const duplicated = rounds.length - new Set(rounds).size;
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const report = [
    `# bench:classroom`,
    ``,
    `${TABS} tabs' session stacks (\`SessionNode\`) in one process over the in-memory network, a ${hidden.join('x')}-hidden MLP trained on`,
    `40 MNIST images per tab, ${ROUNDS} rounds, fraction ${config.fraction}; session timings a tenth of the app's (heartbeat`,
    `${TIMING.heartbeatMs} ms, silence ${TIMING.silenceMs} ms, vote ${TIMING.voteTimeoutMs} ms). Every 5 rounds a student reloads (same key, new id),`,
    `every 4 rounds one leaves without a goodbye, every 7 rounds a student's link to the aggregator flaps for 300 ms; at round 20`,
    `the host's tab reloads and takes control back with its key; at round 30 Stop, then Resume. Run: \`npm run bench:classroom\`.`,
    ``,
    `A header is a tab's projection of the record it holds (\`projectSession\`: status, rounds done, stopping) against the`,
    `aggregator's projection of its own. Records go out when they change, so a tab's lag is a message's delivery, which here`,
    `waits behind the other tabs' training on this one thread (200-600 ms seen across runs); election timings are scaled to a`,
    `tenth, training is not. Tabs whose link is down, or that rejoin, cannot hear the aggregator: listed apart, without a target.`,
    ``,
    `| measure | target | result |`,
    `|---|---|---|`,
    `| rounds finished | ${ROUNDS} | ${rounds.length} in ${seconds} s |`,
    `| rounds lost (missing from the final aggregator's record) | 0 | ${lost.length}${lost.length ? ` (${lost.join(', ')})` : ''} |`,
    `| rounds run twice | 0 | ${duplicated} |`,
    `| longest time with two aggregators | under the election timeout (${TIMING.silenceMs + TIMING.voteTimeoutMs} ms) | ${longestTwoAggregatorsMs} ms |`,
    `| longest a connected tab's header disagreed with the aggregator's | ${HEADER_TARGET_MS} ms | ${longestDisagreementMs.connected} ms |`,
    `| the same for any tab, also while its link is down or it rejoins | (no target: it cannot hear the aggregator) | ${longestDisagreementMs.all} ms |`,
    `| stuck states (no round for ${STUCK_MS / 1000} s while running) | 0 | ${stuck} |`,
    `| final aggregator | the host's tab | ${final ? (final.selfId.startsWith('tab-0-') ? `the host's tab (${final.selfId}), term ${final.term}` : `${final.selfId}, term ${final.term}`) : 'none'} |`,
    ``,
    `Events:`,
    ``,
    ...events.map((e) => `- ${e}`),
    ``,
  ].join('\n');
  console.log(report);
  if (out) writeFileSync(out, report);
  for (const n of tabs.values()) n.leave();
  process.exit(0);
}

void main();
