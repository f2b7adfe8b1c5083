import type { LeaseLostReason } from '@kcl-ts/leases';
import { EventEmitter } from 'node:events';

/** Events emitted by a {@link Worker} (instrumentation in the style of KafkaJS). */
export interface WorkerEvents {
  /** The worker acquired the lease of a shard (a processor will be created for it). */
  leaseAcquired: [event: { readonly shardId: string; readonly workerId: string }];
  /** The worker no longer holds the lease of a shard. */
  leaseLost: [event: { readonly shardId: string; readonly workerId: string; readonly reason: LeaseLostReason }];
  /** A shard was read to its end and checkpointed at SHARD_END; its children may start. */
  shardEnded: [event: { readonly shardId: string; readonly workerId: string; readonly childShardIds: readonly string[] }];
  /** A processor callback threw (the batch is retried unless `onProcessorError` says otherwise). */
  processorError: [event: { readonly shardId: string; readonly workerId: string; readonly error: unknown }];
  /** A background failure (lease store, shard sync, …). Emitted only when someone listens; always logged. */
  error: [error: Error];
  /** `start()` completed. */
  started: [event: { readonly workerId: string }];
  /** `shutdown()` completed. */
  stopped: [event: { readonly workerId: string }];
}

/** A small typed wrapper over `EventEmitter`. */
export class TypedEmitter<E extends { [K in keyof E]: unknown[] }> {
  private readonly emitter = new EventEmitter();

  on<K extends keyof E & string>(event: K, listener: (...args: E[K]) => void): this {
    this.emitter.on(event, listener as (...args: unknown[]) => void);
    return this;
  }

  once<K extends keyof E & string>(event: K, listener: (...args: E[K]) => void): this {
    this.emitter.once(event, listener as (...args: unknown[]) => void);
    return this;
  }

  off<K extends keyof E & string>(event: K, listener: (...args: E[K]) => void): this {
    this.emitter.off(event, listener as (...args: unknown[]) => void);
    return this;
  }

  /** Number of listeners of `event`. */
  listenerCount<K extends keyof E & string>(event: K): number {
    return this.emitter.listenerCount(event);
  }

  /** Emits `event`; a listener that throws is isolated from the library (its error is returned to `onListenerError`). */
  protected emit<K extends keyof E & string>(event: K, ...args: E[K]): void {
    for (const listener of this.emitter.rawListeners(event)) {
      try {
        (listener as (...a: E[K]) => void)(...args);
      } catch (error) {
        this.onListenerError(event, error);
      }
    }
  }

  /** Called when an event listener throws. */
  protected onListenerError(_event: string, _error: unknown): void {}
}
