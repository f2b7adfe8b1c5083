/**
 * A minimal protocol-buffers wire-format reader: just what the KPL `AggregatedRecord` message
 * needs (varints, length-delimited fields, skipping unknown fields). It never allocates per
 * byte: callers get offsets into the original buffer and slice views themselves.
 * @module
 */

/** Wire types of the protobuf encoding. */
export const WireType = {
  Varint: 0,
  Fixed64: 1,
  LengthDelimited: 2,
  StartGroup: 3,
  EndGroup: 4,
  Fixed32: 5,
} as const;

/** The bytes are not a well-formed protobuf message (truncated, bad varint, bad wire type). */
export class ProtoDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtoDecodeError';
  }
}

const TWO_POW_28 = 2 ** 28;

/**
 * Reads protobuf fields from `buf[pos, end)`. Every read checks bounds and throws
 * {@link ProtoDecodeError} rather than reading past `end`.
 */
export class ProtoReader {
  /** Current read offset into {@link ProtoReader.buf}. */
  pos: number;

  constructor(
    /** The whole buffer; offsets returned by the reader index into it. */
    readonly buf: Uint8Array,
    start: number,
    /** Exclusive end of the region being read. */
    public end: number,
  ) {
    this.pos = start;
  }

  /** True when the region is exhausted. */
  get done(): boolean {
    return this.pos >= this.end;
  }

  /**
   * Reads an unsigned varint of up to 64 bits as a JavaScript number. Values above 2^53 lose
   * precision (they can only be bogus indexes or lengths here, which fail range checks anyway).
   */
  varint(): number {
    const buf = this.buf;
    let pos = this.pos;
    const end = this.end;
    if (pos >= end) throw new ProtoDecodeError('truncated varint');
    let b = buf[pos++]!;
    if (b < 0x80) {
      this.pos = pos;
      return b;
    }
    // Bits 0..27 fit a 32-bit integer exactly; beyond that use multiplication to stay unsigned.
    let value = b & 0x7f;
    let shift = 7;
    for (;;) {
      if (pos >= end) throw new ProtoDecodeError('truncated varint');
      b = buf[pos++]!;
      if (shift < 28) {
        value |= (b & 0x7f) << shift;
      } else {
        if (shift >= 70) throw new ProtoDecodeError('varint longer than 10 bytes');
        value += (b & 0x7f) * TWO_POW_28 * 2 ** (shift - 28);
      }
      if (b < 0x80) break;
      shift += 7;
    }
    this.pos = pos;
    return value;
  }

  /**
   * Reads the length prefix of a length-delimited field, checks that the payload lies within
   * the region, and returns the payload's exclusive end offset. The payload starts at the
   * current {@link ProtoReader.pos}; the caller moves `pos` to the returned end when done.
   */
  delimitedEnd(): number {
    const length = this.varint();
    const end = this.pos + length;
    if (end > this.end) throw new ProtoDecodeError('length-delimited field runs past the end of the message');
    return end;
  }

  /** Skips the payload of a field of the given wire type (the tag has already been read). */
  skip(wireType: number): void {
    switch (wireType) {
      case WireType.Varint:
        this.varint();
        return;
      case WireType.Fixed64:
        this.advance(8);
        return;
      case WireType.LengthDelimited:
        this.pos = this.delimitedEnd();
        return;
      case WireType.Fixed32:
        this.advance(4);
        return;
      default:
        // Groups are deprecated and never used by the KPL; treat them as corruption.
        throw new ProtoDecodeError(`unsupported wire type ${wireType}`);
    }
  }

  private advance(n: number): void {
    if (this.pos + n > this.end) throw new ProtoDecodeError('truncated fixed-width field');
    this.pos += n;
  }
}
