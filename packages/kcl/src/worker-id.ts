import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

/** The default worker id: `hostname:pid:random`, unique per process start. */
export function defaultWorkerId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
}
