/**
 * Which stream of a multi-stream lease table a stream name means.
 * @module
 */
import { parseStreamIdentifier, type Lease, type MultiStreamIdentifier } from '@kcl-ts/leases';

/**
 * The identifier of the stream ListShards described on a multi-stream table: of the leases'
 * streams named `name`, the newest (a stream deleted and created again under its name keeps the
 * old one's leases unless they are deleted, and ListShards by name reads the new one).
 */
export function newestStreamNamed(leases: readonly Lease[], name: string | null): string | undefined {
  let newest: MultiStreamIdentifier | undefined;
  let serialized: string | undefined;
  for (const { streamIdentifier } of leases) {
    const id = streamIdentifier === undefined ? undefined : parseStreamIdentifier(streamIdentifier);
    if (id === undefined || id.streamName !== name || (newest !== undefined && id.creationEpoch <= newest.creationEpoch)) continue;
    newest = id;
    serialized = streamIdentifier;
  }
  return serialized;
}
