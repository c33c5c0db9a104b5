import { describe, expect, it } from 'vitest';
import { paramFlag } from '../strategies/params';
import { configurableParams, listStrategies } from '../strategies/registry';
import { RUN_SETTINGS, VALIDATION_DATA, type ValidationData } from './declarations';
import { choiceValues, formatSetting, getSetting, parseSetting, settingApplies, settingDefault, settingFlag, settingProblem, settingRangeText } from './values';

describe('run setting declarations', () => {
  it('have unique names and flags, and defaults inside their own bounds', () => {
    const names = RUN_SETTINGS.map((s) => s.name);
    expect(new Set(names).size).toBe(names.length);
    const flags = RUN_SETTINGS.flatMap((s) => [settingFlag(s), ...(s.cliAliases ?? [])]);
    expect(new Set(flags).size).toBe(flags.length);
    for (const s of RUN_SETTINGS) {
      expect(settingProblem(s, s.default), s.name).toBeNull();
      if ((s.kind === 'number' || s.kind === 'choice') && s.defaultBy) for (const x of Object.values(s.defaultBy.values)) expect(settingProblem(s, x), s.name).toBeNull();
      if (s.appliesWhen) expect(names, s.name).toContain(s.appliesWhen.setting);
    }
  });

  it('share no CLI flag with a strategy or server-optimizer hyper-parameter', () => {
    const settingFlags = new Set(RUN_SETTINGS.flatMap((s) => [settingFlag(s), ...(s.cliAliases ?? [])]));
    const clashes = listStrategies().flatMap((st) => configurableParams(st).map((p) => paramFlag(p.name)).filter((f) => settingFlags.has(f)));
    expect(clashes).toEqual([]);
  });

  it('default the decomposition to proxy whatever the task: exact sends local models to every peer, so a host opts into it', () => {
    const d = getSetting('decomposition');
    expect(settingDefault(d, { [VALIDATION_DATA]: 'none' satisfies ValidationData })).toBe('proxy');
    expect(settingDefault(d, { [VALIDATION_DATA]: 'aggregator' satisfies ValidationData })).toBe('proxy');
    expect(settingDefault(d, {})).toBe('proxy');
  });

  it('give the learning rate a default per local optimizer, falling back to the default optimizer', () => {
    const lr = getSetting('learningRate');
    const optimizer = getSetting('optimizer');
    expect(settingDefault(lr, { optimizer: 'adam' })).toBeLessThan(settingDefault(lr, { optimizer: 'sgd' }) as number);
    expect(settingDefault(lr, {})).toBe(settingDefault(lr, { optimizer: optimizer.default }));
    expect(settingDefault(lr, { optimizer: 'nonsense' })).toBe(lr.default);
  });
});

describe('parseSetting', () => {
  it('checks whole numbers, ranges and open ends', () => {
    const rounds = getSetting('rounds');
    expect(parseSetting(rounds, ' 12 ')).toEqual({ ok: true, value: 12 });
    expect(parseSetting(rounds, '2.5')).toEqual({ ok: false, error: 'expected a whole number in [1, 1000000]' });
    expect(parseSetting(rounds, '0')).toEqual({ ok: false, error: 'must be in [1, 1000000]' });
    expect(parseSetting(rounds, '')).toEqual({ ok: false, error: 'expected a whole number in [1, 1000000]' });
    const fraction = getSetting('fraction');
    expect(settingRangeText(fraction)).toBe('(0, 1]');
    expect(parseSetting(fraction, '0').ok).toBe(false);
    expect(parseSetting(fraction, '1')).toEqual({ ok: true, value: 1 });
  });

  it('reads an empty field as none where the default is none', () => {
    expect(parseSetting(getSetting('maxStaleness'), '  ')).toEqual({ ok: true, value: null });
    expect(parseSetting(getSetting('maxStaleness'), '-1').ok).toBe(false);
  });

  it('offers each surface its own options of a choice', () => {
    const partition = getSetting('partition');
    if (partition.kind !== 'choice') throw new Error('partition is a choice');
    expect(choiceValues(partition, 'form')).toEqual(['iid', 'dirichlet', 'shards']);
    expect(choiceValues(partition, 'cli')).toContain('sizeskew');
    expect(parseSetting(partition, 'sizeskew', 'form')).toEqual({ ok: false, error: 'expected one of iid, dirichlet, shards' });
    expect(parseSetting(partition, 'sizeskew', 'cli')).toEqual({ ok: true, value: 'sizeskew' });
  });

  it('checks a text spec with its own parser', () => {
    const staleness = getSetting('staleness');
    expect(parseSetting(staleness, 'hinge:10:4')).toEqual({ ok: true, value: 'hinge:10:4' });
    expect(parseSetting(staleness, 'poly:x').ok).toBe(false);
  });

  it('reads a switch as on or off, and an open maximum as excluded', () => {
    const secagg = getSetting('secagg');
    expect(parseSetting(secagg, 'on')).toEqual({ ok: true, value: true });
    expect(parseSetting(secagg, 'off')).toEqual({ ok: true, value: false });
    expect(parseSetting(secagg, 'yes')).toEqual({ ok: false, error: 'expected on or off' });
    expect(formatSetting(true)).toBe('on');
    const validation = getSetting('validation');
    expect(settingRangeText(validation)).toBe('[0, 1)');
    expect(settingProblem(validation, 0.99)).toBeNull();
    expect(settingProblem(validation, 1)).toBe('must be in [0, 1)');
  });
});

describe('settingApplies', () => {
  it('follows the condition on another setting', () => {
    const alpha = getSetting('alpha');
    expect(settingApplies(alpha, { partition: 'dirichlet' })).toBe(true);
    expect(settingApplies(alpha, { partition: 'iid' })).toBe(false);
    expect(settingApplies(getSetting('rounds'), {})).toBe(true);
  });
});
