import { describe, expect, it } from 'vitest';
import { MISSING, errorMessage, formatBytes, formatDuration, formatLoss, formatPercent, formatRate, formatSignedLoss } from './format';

describe('formatBytes', () => {
  it('uses binary units with sensible precision', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(812)).toBe('812 B');
    expect(formatBytes(1536)).toBe('1.50 KiB');
    expect(formatBytes(50_000)).toBe('48.8 KiB');
    expect(formatBytes(218_000)).toBe('213 KiB');
    expect(formatBytes(5 * 1024 * 1024)).toBe('5.00 MiB');
    expect(formatBytes(3 * 1024 ** 4)).toBe('3.00 TiB');
  });

  it('shows a dash for values that are not byte counts', () => {
    expect(formatBytes(-1)).toBe(MISSING);
    expect(formatBytes(NaN)).toBe(MISSING);
    expect(formatBytes(null)).toBe(MISSING);
  });
});

describe('loss and percentage formatting', () => {
  it('writes missing measurements as a dash, never as 0', () => {
    expect(formatLoss(null)).toBe(MISSING);
    expect(formatLoss(undefined)).toBe(MISSING);
    expect(formatLoss(Infinity)).toBe(MISSING);
    expect(formatPercent(null)).toBe(MISSING);
    expect(formatSignedLoss(null)).toBe(MISSING);
  });

  it('signs terms that can be negative', () => {
    expect(formatSignedLoss(0.3685)).toBe('+0.3685');
    expect(formatSignedLoss(-0.2231)).toBe('\u22120.2231');
    expect(formatSignedLoss(0)).toBe('0.0000');
    expect(formatLoss(-0.00001)).toBe('0.0000');
    expect(formatLoss(1.42054)).toBe('1.4205');
  });

  it('shows accuracy as a percentage', () => {
    expect(formatPercent(0.8015)).toBe('80.2 %');
    expect(formatPercent(1)).toBe('100.0 %');
  });
});

describe('durations, rates and errors', () => {
  it('picks a readable unit', () => {
    expect(formatDuration(543.2)).toBe('543 ms');
    expect(formatDuration(1120)).toBe('1.1 s');
    expect(formatDuration(125_000)).toBe('2 min 5 s');
    expect(formatRate(1313.4)).toBe('1,313/s');
    expect(formatRate(null)).toBe(MISSING);
  });

  it('extracts a message from anything thrown', () => {
    expect(errorMessage(new Error('boom'))).toBe('boom');
    expect(errorMessage('plain')).toBe('plain');
    expect(errorMessage(42)).toBe('42');
  });
});
