import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatOracleVerdict, parseSchedule, runSchedule } from '../src/index.js';

const dir = new URL('./regressions/', import.meta.url);

/**
 * Minimal schedules of defects the simulation found, replayed as they were printed: each failed
 * before its fix (the file name says which) and must stay clean.
 */
describe('simulation regressions', () => {
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
    it(file, async () => {
      const schedule = parseSchedule(JSON.parse(readFileSync(new URL(file, dir), 'utf8')));
      const result = await runSchedule(schedule);
      expect(result.verdict.ok, formatOracleVerdict(result.verdict)).toBe(true);
    });
  }
});
