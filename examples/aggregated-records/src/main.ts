/**
 * kcl-ts example "aggregated-records": consuming KPL-aggregated records.
 *
 *   node examples/aggregated-records/dist/main.js [--duration 15] [--records 50] [--per-aggregate 10]
 *
 * Locally it produces `--records` user records as aggregates (with the `aws-kinesis-agg`
 * package, grouped per shard like the KPL does) plus one plain record, then:
 *   phase 1: a worker processes them and "fails" half-way through an aggregate, after
 *            checkpointing the user record with sub-sequence number 4 (`checkpoint(record)`);
 *   phase 2: a new worker resumes from that checkpoint — at sub-sequence number 5 of the
 *            same aggregate — and consumes the rest for --duration seconds.
 * Against AWS (nothing produced) it runs phase 2 only, printing what it receives.
 */
import { Worker } from '@kcl-ts/kcl';
import { createStreamAndWait, putRecordsBatched } from '@kcl-ts/local';
import { commonArgs, numberFlag, parseFlags, runFor, connect, type Connection, runMain } from '@kcl-ts/example-support';
import { AggregateProcessor, show, type RunState } from './processor.js';
import { putAggregated } from './producer.js';

function newWorker(connection: Connection, stream: string, app: string, state: RunState, stopMidAggregate: boolean): Worker {
  return new Worker({
    applicationName: app,
    streamName: stream,
    kinesisClient: connection.kinesis,
    dynamoDbClient: connection.dynamoDb,
    initialPosition: 'TRIM_HORIZON',
    processorFactory: () => new AggregateProcessor(state, stopMidAggregate),
  });
}

async function main(): Promise<number> {
  const flags = parseFlags(process.argv.slice(2), { 'per-aggregate': { type: 'string' } });
  const connection = await connect();
  try {
    const args = commonArgs(flags, 'aggregated-records', connection.mode);
    const perAggregate = Math.max(1, Math.floor(numberFlag(flags, 'per-aggregate', 10)));
    console.log(`aggregated-records: ${connection.description}; stream ${args.stream}, application ${args.app}`);

    if (connection.mode !== 'aws') await createStreamAndWait(connection.kinesis, args.stream, args.shards);
    let phase1: RunState | undefined;
    if (args.records > 0) {
      const records = Array.from({ length: args.records }, (_, i) => ({ partitionKey: `device-${i % 8}`, data: JSON.stringify({ reading: i }) }));
      const aggregates = await putAggregated(connection.kinesis, args.stream, records, perAggregate);
      await putRecordsBatched(connection.kinesis, args.stream, [{ partitionKey: 'device-plain', data: JSON.stringify({ plain: true }) }]);
      console.log(`produced ${args.records} user records in ${aggregates} aggregated Kinesis records, plus 1 plain record`);

      // Phase 1: stop in the middle of an aggregate.
      phase1 = { processed: 0, aggregated: 0 };
      const stopped = new Promise<boolean>((resolve) => {
        phase1!.onStopped = () => resolve(true);
        setTimeout(() => resolve(false), 20_000).unref();
      });
      const first = newWorker(connection, args.stream, args.app, phase1, true);
      await first.start();
      const stoppedMidAggregate = await stopped;
      await first.shutdown();
      console.log(
        stoppedMidAggregate
          ? `phase 1 done: ${phase1.processed} user records processed, checkpoint left at ${show(phase1.stoppedAt!)}`
          : 'phase 1: no aggregate with 5+ user records arrived within 20 s (use --per-aggregate ≥ 5)',
      );
    }

    // Phase 2: a new worker resumes from the checkpoints.
    const state: RunState = { processed: 0, aggregated: 0, ...(phase1?.stoppedAt && { expectResumeFrom: phase1.stoppedAt }) };
    const worker = newWorker(connection, args.stream, args.app, state, false);
    await worker.start();
    const why = await runFor(args.durationS);
    console.log(`stopping (${why})…`);
    await worker.shutdown();
    const total = state.processed + (phase1?.processed ?? 0);
    console.log(`processed ${total} records (${state.aggregated + (phase1?.aggregated ?? 0)} from aggregates)`);
    if (phase1?.stoppedAt && state.resumedWith) {
      const ok = state.resumedWith.sequenceNumber === phase1.stoppedAt.sequenceNumber && state.resumedWith.subSequenceNumber === phase1.stoppedAt.subSequenceNumber + 1;
      console.log(ok ? 'resume check: OK (the next user record of the same aggregate came first)' : `resume check: FAILED (resumed with ${show(state.resumedWith)})`);
      if (!ok) return 1;
    }
    return 0;
  } finally {
    await connection.close();
  }
}

runMain('aggregated-records', main);
