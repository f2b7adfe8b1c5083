/**
 * Fault rules of the {@link startFaultProxy | fault proxy}: which request is hit, how, and how
 * often; and the AWS-shaped error responses they produce. Pure: no I/O.
 *
 * Error shapes follow what the AWS JSON protocols send (Kinesis speaks `awsJson1_1`, DynamoDB
 * `awsJson1_0`): HTTP 400 for client-side errors such as throttling, 500/503 for server faults,
 * a JSON body whose `__type` names the error (DynamoDB prefixes it with its namespace, e.g.
 * `com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException`), and an
 * `x-amzn-ErrorType` header. The AWS SDK v3 reads `__type` first, then `code`, then the header,
 * and keeps the part after `#` — so the SDK surfaces exactly the error `name` a real service gives.
 * @module
 */

/** Which emulator a proxy stands in front of. */
export type FaultTarget = 'kinesis' | 'dynamodb';

/**
 * What a rule does to a matching request:
 * - `throttle`: HTTP 400 with a throttling error (`errorType`, default
 *   `ProvisionedThroughputExceededException`);
 * - `error5xx`: HTTP 500 `InternalFailure` (Kinesis) / `InternalServerError` (DynamoDB), or
 *   503 `ServiceUnavailable` with `status: 503`;
 * - `latency`: waits `latencyMs` before going on (latency rules add up, then other rules apply);
 * - `drop`: destroys the client's socket without a response (the SDK sees a network error);
 * - `expiredIterator`: HTTP 400 `ExpiredIteratorException` (meant for `GetRecords`).
 */
export type FaultKind = 'throttle' | 'error5xx' | 'latency' | 'drop' | 'expiredIterator';

/** A fault rule. Every field but `kind` is optional. */
export interface FaultRule {
  /** Only requests to this kind of target; the proxy's own kind when omitted (every request). */
  readonly target?: FaultTarget;
  /**
   * Only this operation: the full `X-Amz-Target` header (`Kinesis_20131202.GetRecords`) or just
   * the operation name (`GetRecords`). Every operation when omitted.
   */
  readonly operation?: string;
  /** What to inject. */
  readonly kind: FaultKind;
  /**
   * Only requests whose body contains this text (or every one of these texts), e.g.
   * `SHARD_END` to hit only the lease writes that checkpoint a shard's end, or
   * `['shardId-000000000000', '"checkpoint"']` for the checkpoints of one shard. Every request
   * when omitted.
   */
  readonly bodyContains?: string | readonly string[];
  /** Chance that a matching request is hit, in [0, 1]. @default 1 */
  readonly probability?: number;
  /** Injects at most this many faults, then the rule stays inert. @default unlimited */
  readonly count?: number;
  /** Delay of a `latency` rule. @default 200 */
  readonly latencyMs?: number;
  /** Status of an `error5xx` rule. @default 500 */
  readonly status?: 500 | 503;
  /**
   * Error name of a `throttle` rule: `ProvisionedThroughputExceededException`,
   * `ThrottlingException`, `LimitExceededException`, `RequestLimitExceeded`, …
   * @default 'ProvisionedThroughputExceededException'
   */
  readonly errorType?: string;
  /**
   * On `SubscribeToShard` (an event stream, forwarded chunk by chunk), `drop` with `after`
   * cuts the stream after its first event reached the client: the stream dropped mid-way.
   * For `drop` and `error5xx`: `before` answers without forwarding (the target never sees the
   * request); `after` forwards it first and then drops or replaces the response, so the
   * operation took effect but the client does not know — e.g. a conditional write that
   * succeeded, retried by the SDK, and failing its condition the second time.
   * @default 'before'
   */
  readonly phase?: 'before' | 'after';
}

/** Counters of one rule. */
export interface FaultRuleStats {
  /** Id returned by `addRule`. */
  readonly id: number;
  readonly rule: FaultRule;
  /** Requests that matched target and operation. */
  readonly matched: number;
  /** Faults injected (matched and hit by the probability roll, within `count`). */
  readonly injected: number;
}

/** An HTTP response to send instead of forwarding. */
export interface FaultResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

const KINDS: readonly FaultKind[] = ['throttle', 'error5xx', 'latency', 'drop', 'expiredIterator'];
const nonNegativeInteger = (v: unknown): boolean => Number.isInteger(v) && (v as number) >= 0;
const nonEmptyString = (v: unknown): boolean => typeof v === 'string' && v.length > 0;

/** What each optional field of a rule must be, as a test and as words for the error. */
const FIELD_CHECKS: { readonly [K in keyof FaultRule]-?: readonly [(value: unknown) => boolean, string] } = {
  kind: [(v) => KINDS.includes(v as FaultKind), `one of ${KINDS.join(', ')}`],
  target: [(v) => v === 'kinesis' || v === 'dynamodb', "'kinesis' or 'dynamodb'"],
  operation: [nonEmptyString, 'a non-empty string'],
  bodyContains: [(v) => (Array.isArray(v) ? v.length > 0 && v.every(nonEmptyString) : nonEmptyString(v)), 'a non-empty string or a non-empty array of them'],
  probability: [(v) => typeof v === 'number' && v >= 0 && v <= 1, 'a number in [0, 1]'],
  count: [nonNegativeInteger, 'a non-negative integer'],
  latencyMs: [nonNegativeInteger, 'a non-negative integer'],
  status: [(v) => v === 500 || v === 503, '500 or 503'],
  phase: [(v) => v === 'before' || v === 'after', "'before' or 'after'"],
  errorType: [(v) => typeof v === 'string' && /^[A-Za-z]+$/.test(v), 'an AWS error name such as ThrottlingException'],
};

/** Validates a rule (throws a `TypeError` naming the bad field) and returns a copy. */
export function validateFaultRule(rule: FaultRule): FaultRule {
  if (typeof rule !== 'object' || rule === null) throw new TypeError('a fault rule must be an object');
  for (const [field, [ok, what]] of Object.entries(FIELD_CHECKS)) {
    const value = (rule as unknown as Record<string, unknown>)[field];
    if ((field === 'kind' || value !== undefined) && !ok(value)) throw new TypeError(`${field} must be ${what}, got ${JSON.stringify(value)}`);
  }
  return { ...rule };
}

/** The operation name of an `X-Amz-Target` header: `Kinesis_20131202.GetRecords` → `GetRecords`. */
export function operationName(amzTarget: string | undefined): string {
  if (!amzTarget) return '';
  const dot = amzTarget.lastIndexOf('.');
  return dot >= 0 ? amzTarget.slice(dot + 1) : amzTarget;
}

function matches(rule: FaultRule, target: FaultTarget, amzTarget: string, body: string): boolean {
  if (rule.target !== undefined && rule.target !== target) return false;
  if (rule.bodyContains !== undefined) {
    const texts = typeof rule.bodyContains === 'string' ? [rule.bodyContains] : rule.bodyContains;
    if (!texts.every((t) => body.includes(t))) return false;
  }
  if (rule.operation === undefined) return true;
  return rule.operation === amzTarget || rule.operation === operationName(amzTarget);
}

interface Entry {
  readonly id: number;
  readonly rule: FaultRule;
  matched: number;
  injected: number;
}

/** What the rules decided for one request. */
export interface FaultDecision {
  /** Total delay to add before anything else (sum of the `latency` rules that fired). */
  readonly latencyMs: number;
  /** The first non-latency rule that fired, if any. */
  readonly fault?: FaultRule;
}

/**
 * An ordered, mutable set of {@link FaultRule}s with per-rule counters. `decide` is evaluated
 * once per request: every firing `latency` rule adds its delay; the first firing rule of any
 * other kind decides the fault.
 */
export class FaultRuleSet {
  private readonly entries: Entry[] = [];
  private readonly retired: FaultRuleStats[] = [];
  private nextId = 1;

  constructor(private readonly random: () => number = Math.random) {}

  /** Adds a rule at the end; returns its id. */
  add(rule: FaultRule): number {
    const entry: Entry = { id: this.nextId++, rule: validateFaultRule(rule), matched: 0, injected: 0 };
    this.entries.push(entry);
    return entry.id;
  }

  /** Removes one rule; true if it existed. Its counters stay readable in {@link removedStats}. */
  remove(id: number): boolean {
    const i = this.entries.findIndex((e) => e.id === id);
    if (i < 0) return false;
    this.retired.push(snapshot(this.entries[i]!));
    this.entries.splice(i, 1);
    return true;
  }

  /** Removes every rule (counters are kept in {@link removedStats}). */
  clear(): void {
    for (const e of this.entries) this.retired.push(snapshot(e));
    this.entries.length = 0;
  }

  /** Counters of the current rules. */
  stats(): FaultRuleStats[] {
    return this.entries.map(snapshot);
  }

  /** Counters of rules removed so far. */
  removedStats(): FaultRuleStats[] {
    return [...this.retired];
  }

  /** Faults injected by every rule ever added, optionally of one kind only. */
  totalInjected(kind?: FaultKind): number {
    return [...this.retired, ...this.stats()].filter((s) => kind === undefined || s.rule.kind === kind).reduce((n, s) => n + s.injected, 0);
  }

  /** Evaluates the rules for one request (`body`: its text, for `bodyContains`) and counts what fired. */
  decide(target: FaultTarget, amzTarget: string, body = ''): FaultDecision {
    let latencyMs = 0;
    let fault: FaultRule | undefined;
    for (const entry of this.entries) {
      const { rule } = entry;
      if (!matches(rule, target, amzTarget, body)) continue;
      if (fault !== undefined && rule.kind !== 'latency') continue;
      entry.matched++;
      if (rule.count !== undefined && entry.injected >= rule.count) continue;
      if (this.random() >= (rule.probability ?? 1)) continue;
      entry.injected++;
      if (rule.kind === 'latency') latencyMs += rule.latencyMs ?? 200;
      else fault = rule;
    }
    return fault === undefined ? { latencyMs } : { latencyMs, fault };
  }
}

function snapshot(e: Entry): FaultRuleStats {
  return { id: e.id, rule: e.rule, matched: e.matched, injected: e.injected };
}

const DYNAMODB_NS = 'com.amazonaws.dynamodb.v20120810#';
const CORAL_NS = 'com.amazon.coral.availability#';

/** The error name and the `__type` value a real service would send for this fault. */
function errorIdentity(kind: FaultKind, target: FaultTarget, rule: FaultRule): { name: string; type: string; status: number; message: string } {
  switch (kind) {
    case 'throttle': {
      const name = rule.errorType ?? 'ProvisionedThroughputExceededException';
      const message =
        target === 'kinesis'
          ? name === 'LimitExceededException'
            ? 'Rate exceeded for stream (injected by the kcl-ts fault proxy)'
            : 'Rate exceeded for shard shardId-000000000000 in stream under account 000000000000 (injected by the kcl-ts fault proxy)'
          : 'The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API. (injected by the kcl-ts fault proxy)';
      // DynamoDB qualifies its own errors with its namespace; ThrottlingException comes from the
      // shared "coral" layer in front of it.
      const type = target === 'dynamodb' ? (name === 'ThrottlingException' ? CORAL_NS : DYNAMODB_NS) + name : name;
      return { name, type, status: 400, message };
    }
    case 'expiredIterator':
      return {
        name: 'ExpiredIteratorException',
        type: target === 'dynamodb' ? DYNAMODB_NS + 'ExpiredIteratorException' : 'ExpiredIteratorException',
        status: 400,
        message: 'Iterator expired. The iterator was created at time Thu Jan 01 00:00:00 UTC 1970 while right now it is Thu Jan 01 00:05:01 UTC 1970 which is further in the future than the tolerated delay of 300000 milliseconds. (injected by the kcl-ts fault proxy)',
      };
    case 'error5xx': {
      if (rule.status === 503) {
        return { name: 'ServiceUnavailable', type: target === 'dynamodb' ? CORAL_NS + 'ServiceUnavailableException' : 'ServiceUnavailable', status: 503, message: 'Service unavailable (injected by the kcl-ts fault proxy)' };
      }
      return target === 'dynamodb'
        ? { name: 'InternalServerError', type: DYNAMODB_NS + 'InternalServerError', status: 500, message: 'Internal server error (injected by the kcl-ts fault proxy)' }
        : { name: 'InternalFailure', type: 'InternalFailure', status: 500, message: 'Internal service failure (injected by the kcl-ts fault proxy)' };
    }
    default:
      throw new TypeError(`fault kind ${kind} has no error response`);
  }
}

/** The HTTP response of an error fault (`throttle`, `error5xx`, `expiredIterator`), shaped like AWS's. */
export function faultResponse(rule: FaultRule, target: FaultTarget): FaultResponse {
  const { name, type, status, message } = errorIdentity(rule.kind, target, rule);
  const body = JSON.stringify({ __type: type, message });
  return {
    status,
    headers: {
      'content-type': target === 'kinesis' ? 'application/x-amz-json-1.1' : 'application/x-amz-json-1.0',
      'content-length': String(Buffer.byteLength(body)),
      'x-amzn-errortype': `${name}:`,
      'x-amzn-requestid': `chaos-${Math.random().toString(36).slice(2, 12)}`,
    },
    body,
  };
}
