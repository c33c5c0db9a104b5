import { describe, expect, it } from 'vitest';
import { parseSimArgs, UsageError } from './cli-options';

describe('simulated-clock options', () => {
  it('without any of them, the plain round simulator runs', () => {
    expect(parseSimArgs(['--rounds', '2']).clock).toBeNull();
  });

  it('parses async mode with its buffer and staleness', () => {
    const { clock } = parseSimArgs(['--mode', 'async', '--devices', 'classroom', '--intertwined', '--buffer', '10', '--staleness', 'hinge:10:4', '--max-staleness', '20', '--participation', 'duration', '--sim-time', '30', '--eval-every', '2']);
    expect(clock).toMatchObject({ mode: 'async', devices: { kind: 'classroom' }, intertwined: true, deadline: null, simTime: 30, evalEvery: 2, async: { bufferSize: 10, staleness: { kind: 'hinge', a: 10, b: 4 }, maxStaleness: 20, participation: 'duration' } });
  });

  it('parses sync mode with a deadline and lognormal devices', () => {
    const { clock } = parseSimArgs(['--devices', 'lognormal:0.8', '--deadline', '1.5']);
    expect(clock).toMatchObject({ mode: 'sync', devices: { kind: 'lognormal', sigma: 0.8 }, deadline: 1.5, intertwined: false });
  });

  it.each([
    [['--mode', 'fast'], /--mode expected one of sync, async/],
    [['--devices', 'phones'], /devices must be uniform, classroom or lognormal/],
    [['--devices', 'lognormal:-1'], /devices must be/],
    [['--mode', 'async', '--staleness', 'poly'], /--staleness expected constant, poly:A \(e.g. poly:0.5\) or hinge:A:B/],
    [['--mode', 'async', '--buffer', '0'], /--buffer must be in \[1, 256\]/],
    [['--mode', 'async', '--deadline', '3'], /--deadline applies to --mode sync only/],
    [['--mode', 'sync', '--buffer', '3'], /--buffer-size applies to --mode async only/],
    [['--deadline', '0'], /--deadline must be in \(0, 3600\]/],
    [['--mode', 'async', '--max-staleness', '1.5'], /--max-staleness expected a whole number in \[0, 100000\]/],
    [['--mode', 'async', '--participation', 'fair'], /--participation expected one of none, duration, got "fair"/],
    [['--mode', 'async', '--workers', '2'], /--workers applies to plain sync rounds/],
  ])('rejects %j', (args, message) => {
    expect(() => parseSimArgs(args as string[])).toThrow(UsageError);
    expect(() => parseSimArgs(args as string[])).toThrow(message);
  });
});
