import { DependencyError, LeaseLostError } from '@kcl-ts/processor';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { LeaseRefresher } from '../src/refresher.js';
import type { LeaseCoordinator } from '../src/coordinator/index.js';
import { Fleet, seedLeases } from './coordinator-harness.js';

const WORKERS = ['w0', 'w1', 'w2'] as const;
const LEASES = 5;
const DURATION = 1_000;
const FAILABLE: Array<keyof LeaseRefresher> = ['renewLease', 'takeLease', 'evictLease', 'transferLease', 'listLeases', 'requestHandoff', 'updateLease', 'getLease'];

type Command =
  | { kind: 'renew'; w: number }
  | { kind: 'taker'; w: number }
  | { kind: 'checkpoint'; w: number }
  | { kind: 'advance'; ms: number }
  | { kind: 'restart'; w: number }
  | { kind: 'stopTaking'; w: number }
  | { kind: 'fail'; op: keyof LeaseRefresher };

const worker = fc.integer({ min: 0, max: WORKERS.length - 1 });
/** Delegates to `inner`; `failNext(op)` makes the next call of `op` throw a store error. */
function failureInjector(inner: LeaseRefresher): { refresher: LeaseRefresher; failNext(op: keyof LeaseRefresher): void; clear(): void } {
  const pending = new Map<string, number>();
  const refresher = new Proxy(inner, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const n = pending.get(String(prop)) ?? 0;
        if (n > 0) {
          pending.set(String(prop), n - 1);
          return Promise.reject(new DependencyError('dynamodb', String(prop), 'injected failure', { retryable: true }));
        }
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { refresher, failNext: (op) => pending.set(op, (pending.get(op) ?? 0) + 1), clear: () => pending.clear() };
}

const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 5, arbitrary: worker.map((w) => ({ kind: 'renew' as const, w })) },
  { weight: 5, arbitrary: worker.map((w) => ({ kind: 'taker' as const, w })) },
  { weight: 2, arbitrary: worker.map((w) => ({ kind: 'checkpoint' as const, w })) },
  { weight: 5, arbitrary: fc.integer({ min: 1, max: 1_500 }).map((ms) => ({ kind: 'advance' as const, ms })) },
  { weight: 1, arbitrary: worker.map((w) => ({ kind: 'restart' as const, w })) },
  { weight: 1, arbitrary: worker.map((w) => ({ kind: 'stopTaking' as const, w })) },
  { weight: 1, arbitrary: fc.constantFrom(...FAILABLE).map((op) => ({ kind: 'fail' as const, op })) },
);

/**
 * Random interleavings of renew and taker rounds of three workers (a worker left out of the
 * schedule for a while is a paused zombie), clock advances, checkpoints, graceful
 * stop-and-restart, and store failures. After every step:
 *  - no lease has two live holders (held and not past the self-fencing deadline);
 *  - a live holder's lease is the stored one (same owner and counter), except while a hard
 *    steal made by another worker waits for the victim to fence itself.
 * At the end, once everyone runs normally again, every lease is held exactly once.
 */
describe('LeaseCoordinator: property — never two live holders', () => {
  it('holds under random schedules, pauses, stops and store failures', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(command, { minLength: 10, maxLength: 80 }), fc.boolean(), async (commands, graceful) => {
        const fleet = new Fleet({ leaseDurationMs: DURATION, gracefulHandoff: graceful });
        const keys = seedLeases(fleet.store, LEASES);
        const injector = failureInjector(fleet.store);
        const live = new Map<string, LeaseCoordinator>();
        const recentSteals: Array<{ thief: string; key: string; at: number }> = [];
        let sequence = 1;
        const spawn = (id: string): void => {
          const c = fleet.add(id, { refresher: injector.refresher });
          c.on('takerRun', (s) => {
            for (const key of s.stolen) recentSteals.push({ thief: id, key, at: fleet.clock.elapsed() });
          });
          live.set(id, c);
        };
        for (const id of WORKERS) spawn(id);

        const check = async (): Promise<void> => {
          const now = fleet.clock.elapsed();
          for (const key of keys) {
            const holders = [...live.values()].filter((c) => c.holds(key));
            if (!graceful) {
              // Hard steals may overlap with the victim until its next renewal (as in the Java
              // KCL); only the table must never be claimed by a holder that is not the owner
              // for longer than that.
              continue;
            }
            expect(holders.map((h) => h.workerId), `lease ${key} at ${now}`).toHaveLength(Math.min(holders.length, 1));
            if (holders.length === 1) {
              const stored = await fleet.store.getLease(key);
              const holder = holders[0]!;
              const quarantined = recentSteals.some((s) => s.key === key && s.thief === stored?.leaseOwner && now - s.at < DURATION);
              if (!quarantined) {
                expect(stored?.leaseOwner, `owner of ${key}`).toBe(holder.workerId);
                expect(stored?.leaseCounter).toBe(holder.getHeldLease(key)!.leaseCounter);
              }
            }
          }
        };

        for (const cmd of commands) {
          switch (cmd.kind) {
            case 'renew':
              await live.get(WORKERS[cmd.w])!.runRenewerOnce();
              break;
            case 'taker':
              await live.get(WORKERS[cmd.w])!.runTakerOnce().catch((e: unknown) => expect(e).toBeInstanceOf(DependencyError));
              break;
            case 'checkpoint': {
              const c = live.get(WORKERS[cmd.w])!;
              for (const lease of c.heldLeases()) {
                await c
                  .updateLease(lease.leaseKey, { checkpoint: { sequenceNumber: String(sequence++), subSequenceNumber: 0 } })
                  .catch((e: unknown) => expect(e instanceof LeaseLostError || e instanceof DependencyError).toBe(true));
              }
              break;
            }
            case 'advance':
              await fleet.clock.advance(cmd.ms);
              break;
            case 'restart':
              await live.get(WORKERS[cmd.w])!.stop();
              spawn(WORKERS[cmd.w]);
              break;
            case 'stopTaking':
              live.get(WORKERS[cmd.w])!.stopTaking();
              break;
            case 'fail':
              injector.failNext(cmd.op);
              break;
          }
          await fleet.settle();
          await check();
        }

        // Heal: no more failures pending, workers that stopped taking are restarted, everyone runs.
        injector.clear();
        for (const id of WORKERS) {
          await live.get(id)!.stop();
          spawn(id);
        }
        for (let t = 0; t < 8_000; t += 100) {
          await fleet.clock.advance(100);
          for (const c of live.values()) {
            if (t % 300 === 0) await c.runRenewerOnce();
            await c.runTakerOnce();
          }
          await fleet.settle();
          await check();
        }
        for (const key of keys) {
          const holders = [...live.values()].filter((c) => c.holds(key)).map((c) => c.workerId);
          expect(holders, `final holders of ${key}`).toHaveLength(1);
          expect((await fleet.store.getLease(key))?.leaseOwner).toBe(holders[0]);
        }
        for (const c of live.values()) await c.stop();
      }),
      { numRuns: 100 },
    );
  });
});
