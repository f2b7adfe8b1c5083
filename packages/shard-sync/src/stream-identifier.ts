/**
 * How a stream is named: by name (in the client's region and account) or by ARN.
 * @module
 */

/** The stream to read: `{ streamName }` (the client's account and region) or `{ streamArn }`. */
export type StreamIdentifier = { readonly streamName: string } | { readonly streamArn: string };

/** The parts of a Kinesis data stream ARN. */
export interface ParsedStreamArn {
  /** `aws`, `aws-cn` or `aws-us-gov`. */
  readonly partition: string;
  /** The region, e.g. `us-east-1`. */
  readonly region: string;
  /** The 12-digit account id. */
  readonly accountId: string;
  /** The stream name. */
  readonly streamName: string;
}

const STREAM_NAME = /^[a-zA-Z0-9_.-]{1,128}$/;
// arn:<partition>:kinesis:<region>:<12-digit account>:stream/<name>
const STREAM_ARN = /^arn:(aws|aws-cn|aws-us-gov):kinesis:([a-z]{2}(?:-[a-z]+)+-\d+):(\d{12}):stream\/([a-zA-Z0-9_.-]{1,128})$/;

/**
 * Splits a Kinesis data stream ARN, `arn:aws[-cn|-us-gov]:kinesis:<region>:<12 digits>:stream/<name>`.
 * @throws TypeError naming `streamArn` and the value for anything else (a consumer ARN, another service, a bare name).
 */
export function parseStreamArn(arn: string): ParsedStreamArn {
  const match = typeof arn === 'string' ? STREAM_ARN.exec(arn) : null;
  if (!match) {
    throw new TypeError(
      `streamArn must look like arn:aws:kinesis:<region>:<12-digit account id>:stream/<name>, got ${JSON.stringify(arn)}`,
    );
  }
  return { partition: match[1]!, region: match[2]!, accountId: match[3]!, streamName: match[4]! };
}

/** True if `name` is a valid stream name (1–128 of `[a-zA-Z0-9_.-]`). */
export function isValidStreamName(name: unknown): name is string {
  return typeof name === 'string' && STREAM_NAME.test(name);
}

/**
 * Validates a {@link StreamIdentifier}, returning a copy with only the given key.
 * @throws TypeError naming `stream`, `stream.streamName` or `stream.streamArn` and the bad value.
 */
export function resolveStreamIdentifier(value: unknown, optionName = 'stream'): StreamIdentifier {
  if (typeof value !== 'object' || value === null) {
    throw new TypeError(`${optionName} must be { streamName } or { streamArn }, got ${JSON.stringify(value)}`);
  }
  const v = value as { streamName?: unknown; streamArn?: unknown };
  if (v.streamName !== undefined && v.streamArn !== undefined) {
    throw new TypeError(`${optionName} must have streamName or streamArn, not both, got ${JSON.stringify(value)}`);
  }
  if (v.streamArn !== undefined) {
    if (typeof v.streamArn !== 'string') throw new TypeError(`${optionName}.streamArn must be a string, got ${JSON.stringify(v.streamArn)}`);
    parseStreamArn(v.streamArn);
    return { streamArn: v.streamArn };
  }
  if (!isValidStreamName(v.streamName)) {
    throw new TypeError(`${optionName}.streamName must be 1-128 characters of [a-zA-Z0-9_.-], got ${JSON.stringify(v.streamName)}`);
  }
  return { streamName: v.streamName };
}

/** The name or ARN of a stream, for messages. */
export function streamLabelOf(stream: StreamIdentifier): string {
  return 'streamArn' in stream ? stream.streamArn : stream.streamName;
}
