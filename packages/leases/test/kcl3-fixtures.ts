/**
 * Items a Java KCL 3.5 fleet keeps in a single-table lease table, for tests: leases written
 * by a KCL 3.x worker (with `checkpointOwner`, `throughputKBps`...) and the non-lease items
 * (`entityType` other than `LEASE`) that share the table with them.
 */
import type { LeaseItem } from '../src/dynamodb/index.js';

/** The worker id of a Java worker that died in the middle of a graceful handoff. */
export const DEAD_JAVA_WORKER = 'ip-10-0-3-41.ec2.internal:9b1f0c2e-5d1a-4c53-9f0e-6a7b2d4c8e10';

/** The `CLIENT_VERSION_MIGRATION` item KCL 3.5 writes when it creates or migrates a table. */
export function migrationItem(): LeaseItem {
  return {
    leaseKey: { S: 'Migration3.0' },
    entityType: { S: 'CLIENT_VERSION_MIGRATION' },
    cv: { S: 'CLIENT_VERSION_3X' },
    mb: { S: DEAD_JAVA_WORKER },
    mts: { N: '1767225600000' },
    h: { L: [{ M: { cv: { S: 'CLIENT_VERSION_3X_WITH_ROLLBACK' }, mb: { S: DEAD_JAVA_WORKER }, mts: { N: '1767225500000' } } }] },
  };
}

/** A per-worker `WORKER_METRIC_STATS` item of a KCL 3.5 single-table table. */
export function workerMetricStatsItem(workerId: string): LeaseItem {
  return {
    leaseKey: { S: `WorkerMetricStats#${workerId}` },
    entityType: { S: 'WORKER_METRIC_STATS' },
    wid: { S: workerId },
    lut: { N: '1767225600' },
    sut: { N: '1767225000' },
    m: { M: { C: { L: [{ N: '12.5' }, { N: '14.25' }] } } },
    mt: { M: { C: { L: [{ N: '80' }] } } },
  };
}

/**
 * A lease as a KCL 3.x worker leaves it when it dies during a graceful handoff to `nextOwner`:
 * `leaseOwner` already names the next owner, `checkpointOwner` the dying one.
 */
export function java3LeaseItem(leaseKey: string, nextOwner: string, options: { readonly entityType?: boolean; readonly counter?: number } = {}): LeaseItem {
  return {
    leaseKey: { S: leaseKey },
    ...(options.entityType ? { entityType: { S: 'LEASE' } } : {}),
    leaseOwner: { S: nextOwner },
    checkpointOwner: { S: DEAD_JAVA_WORKER },
    leaseCounter: { N: String(options.counter ?? 4211) },
    checkpoint: { S: 'TRIM_HORIZON' },
    checkpointSubSequenceNumber: { N: '0' },
    ownerSwitchesSinceCheckpoint: { N: '0' },
    throughputKBps: { N: '3.5' },
    leaseState: { S: 'ACTIVE' },
  };
}
