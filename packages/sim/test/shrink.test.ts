import { describe, expect, it } from 'vitest';
import { generateSchedule, parseSchedule, type Schedule } from '../src/schedule.js';
import { shrinkSchedule } from '../src/shrink.js';

describe('shrinkSchedule', () => {
  it('finds a 1-minimal set of events that still fails, and shortens the run', async () => {
    const schedule = generateSchedule(3);
    expect(schedule.events.length).toBeGreaterThan(6);
    // "Fails" while the first and the fourth event are both present.
    const needed = [schedule.events[0]!, schedule.events[3]!];
    let runs = 0;
    const result = await shrinkSchedule(schedule, async (candidate: Schedule) => {
      runs++;
      return needed.every((e) => candidate.events.includes(e));
    });
    expect(result.schedule.events).toEqual(needed);
    expect(result.runs).toBe(runs);
    expect(result.schedule.config.durationMs).toBeLessThanOrEqual(schedule.config.durationMs);
    expect(parseSchedule(JSON.parse(JSON.stringify(result.schedule)))).toEqual(result.schedule);
  });

  it('stops at maxRuns', async () => {
    const result = await shrinkSchedule(generateSchedule(4), async () => false, { maxRuns: 3 });
    expect(result.runs).toBe(3);
  });
});

describe('generateSchedule', () => {
  it('is deterministic and produces valid, time-ordered schedules', () => {
    expect(generateSchedule(11)).toEqual(generateSchedule(11));
    expect(generateSchedule(11)).not.toEqual(generateSchedule(12));
    for (let seed = 1; seed <= 50; seed++) {
      const s = generateSchedule(seed);
      expect(s.events.map((e) => e.at)).toEqual([...s.events.map((e) => e.at)].sort((a, b) => a - b));
      expect(s.events.some((e) => e.kind === 'join')).toBe(true);
      expect(parseSchedule(JSON.parse(JSON.stringify(s)))).toEqual(s);
    }
  });

  it('rejects a malformed schedule with a message that says what is wrong', () => {
    expect(() => parseSchedule({ version: 2 })).toThrow(/version/);
    expect(() => parseSchedule({ version: 1, seed: 1, config: {}, events: [{ kind: 'join' }] })).toThrow(/events\[0\]/);
  });
});
