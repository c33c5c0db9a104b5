/**
 * Row 3 of scripts/bench-attacks.ts: model poisoning by an admitted client, through the simulator's attack options
 * (`--attackers N --attack ...`, `--robust ...`), which the robust-aggregation branch adds. Without them it says so.
 * Only the simulator is imported here, so this row also runs on a checkout that has nothing else of the bench.
 */
import { measuredRow, notMeasured, renderTable, type RowReport } from './bench-attacks-lib';

export const ROW3 = {
  attack: 'an admitted client sends an update x1e6, or sign-flipped x4 with numSamples 1e9 (MNIST MLP, 1 bad of 5, 10 rounds)',
  before: 'accuracy 0.116 and 0.011 (clean 0.866); max-float updates stop the session loop',
};

// ---- row 3: poisoning, through the simulator's attack options ----------------------------------------------

/** The attacks of row 3 as simulator flags (the robust-aggregation branch adds them). */
export const POISONING_RUNS: Array<{ label: string; attack: string[] }> = [
  { label: 'clean', attack: [] },
  { label: 'scale x1e6', attack: ['--attackers', '1', '--attack', 'scale:1e6'] },
  { label: 'sign-flip x4, numSamples 1e9', attack: ['--attackers', '1', '--attack', 'signflip:4,inflate-samples:1e9'] },
  { label: 'max-float', attack: ['--attackers', '1', '--attack', 'max-float'] },
];

export const POISONING_BASE_ARGS = ['--data', 'mnist', '--model', 'mlp', '--clients', '5', '--rounds', '10', '--limit', '3000', '--test-limit', '1000', '--seed', '1', '--backend', 'wasm'];

export async function row3(): Promise<RowReport> {
  const { parseSimArgs } = await import('../src/sim/cli-options');
  try {
    parseSimArgs([...POISONING_BASE_ARGS, ...POISONING_RUNS[1].attack, '--robust', 'off']);
  } catch (e) {
    return notMeasured(3, ROW3.attack, ROW3.before, `the simulator on this branch has no attack options (${(e as Error).message})`);
  }
  const { runSimulation } = await import('../src/sim/simulation');
  const tf = await import('@tensorflow/tfjs');
  tf.env().set('PROD', true);
  const results: string[][] = [];
  const acc: Record<string, string> = {};
  let strategy = '';
  for (const robust of ['default', 'off']) {
    for (const run of POISONING_RUNS) {
      const args = [...POISONING_BASE_ARGS, ...run.attack, ...(robust === 'off' ? ['--robust', 'off'] : [])];
      let text: string;
      const started = Date.now();
      // Engine events (updates dropped, rounds failed), where the simulator reports them.
      let dropped = 0;
      let failedRounds = 0;
      const hooks: Record<string, unknown> = {
        onEngineEvent: (e: { kind: string }) => {
          if (e.kind === 'rejected') dropped++;
          if (e.kind === 'round-failed') failedRounds++;
        },
      };
      try {
        const { config } = parseSimArgs(args);
        strategy = config.strategy.name;
        const r = await runSimulation(config, hooks as never);
        const extra = [dropped ? `${dropped} updates dropped` : '', failedRounds ? `${failedRounds} rounds failed` : ''].filter(Boolean).join(', ');
        text = `${r.final.accuracy.toFixed(3)} (${r.rounds.length} rounds${extra ? `, ${extra}` : ''})`;
      } catch (e) {
        text = `session stopped: ${(e as Error).message.slice(0, 240)}`;
      }
      const seconds = ((Date.now() - started) / 1000).toFixed(0);
      process.stderr.write(`row 3: ${run.label}, robust ${robust}: ${text} (${seconds} s)\n`);
      acc[`${robust}/${run.label}`] = text;
      results.push([run.label, robust, text, `${seconds} s`, `\`${args.join(' ')}\``]);
    }
  }
  const pick = (robust: string) => POISONING_RUNS.slice(1).map((r) => `${r.label}: ${acc[`${robust}/${r.label}`]}`).join('; ');
  return measuredRow(3, ROW3, `default robust setting: ${pick('default')}; --robust off: ${pick('off')}`, `clean: ${acc['default/clean']} (robust off: ${acc['off/clean']})`, [
    `The simulator (\`runSimulation\`, the same FL code as the tabs) with its attack options: MNIST MLP, 5 clients (default partition), 1 attacker, 10 rounds, 3,000 training / 1,000 test images, strategy ${strategy}; final test accuracy. ` +
      '"default" is the simulator\'s default --robust setting.',
    '',
    ...renderTable(['run', 'robust', 'final accuracy', 'time', 'flags'], results),
  ]);
}
