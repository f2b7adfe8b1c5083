/**
 * MD5 (RFC 1321) in plain JavaScript for short inputs such as partition keys.
 *
 * Why not `node:crypto`? Deaggregation with hash-range filtering hashes one partition key per
 * distinct key of every aggregated record; for keys of a few dozen bytes the cost of a native
 * call and a `Buffer` per digest dominates (≈1.4 µs), while this loop runs in a fraction of
 * that and writes into a caller-supplied array. Long inputs (the aggregate's own checksum) still
 * go through `node:crypto`. Correctness is checked against `node:crypto` in the tests.
 * @module
 */

/** Per-round left-rotation amounts, 4 per round. */
const SHIFTS = new Uint8Array([7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21]);

/** The 64 additive constants: floor(|sin(i + 1)| × 2^32), as RFC 1321 defines them. */
const CONSTANTS = new Int32Array(64);
for (let i = 0; i < 64; i++) CONSTANTS[i] = Math.floor(Math.abs(Math.sin(i + 1)) * 2 ** 32) | 0;

/** Message-word index used by each of the 64 steps. */
const WORD_INDEX = new Uint8Array(64);
for (let i = 0; i < 64; i++) {
  WORD_INDEX[i] = i < 16 ? i : i < 32 ? (5 * i + 1) & 15 : i < 48 ? (3 * i + 5) & 15 : (7 * i) & 15;
}

const words = new Int32Array(16);
const tail = new Uint8Array(128);
const state = new Int32Array(4);

function compress(block: Uint8Array, off: number): void {
  for (let j = 0; j < 16; j++) {
    const p = off + j * 4;
    words[j] = block[p]! | (block[p + 1]! << 8) | (block[p + 2]! << 16) | (block[p + 3]! << 24);
  }
  let a = state[0]!;
  let b = state[1]!;
  let c = state[2]!;
  let d = state[3]!;
  for (let i = 0; i < 64; i++) {
    let f: number;
    if (i < 16) f = (b & c) | (~b & d);
    else if (i < 32) f = (d & b) | (~d & c);
    else if (i < 48) f = b ^ c ^ d;
    else f = c ^ (b | ~d);
    const s = SHIFTS[((i >> 4) << 2) | (i & 3)]!;
    const x = (a + f + CONSTANTS[i]! + words[WORD_INDEX[i]!]!) | 0;
    a = d;
    d = c;
    c = b;
    b = (b + ((x << s) | (x >>> (32 - s)))) | 0;
  }
  state[0] = (state[0]! + a) | 0;
  state[1] = (state[1]! + b) | 0;
  state[2] = (state[2]! + c) | 0;
  state[3] = (state[3]! + d) | 0;
}

/**
 * Computes the MD5 digest of `input[start, end)` and writes its 16 bytes to `out[outOffset..]`.
 * Works for any length, but is meant for short inputs.
 */
export function md5Into(input: Uint8Array, start: number, end: number, out: Uint8Array, outOffset = 0): void {
  state[0] = 0x67452301;
  state[1] = 0xefcdab89 | 0;
  state[2] = 0x98badcfe | 0;
  state[3] = 0x10325476;
  const length = end - start;
  let pos = start;
  while (end - pos >= 64) {
    compress(input, pos);
    pos += 64;
  }
  const rest = end - pos;
  for (let i = 0; i < rest; i++) tail[i] = input[pos + i]!;
  tail[rest] = 0x80;
  const padded = rest < 56 ? 64 : 128;
  tail.fill(0, rest + 1, padded - 8);
  // Message length in bits, little-endian 64-bit.
  const bitsLow = (length * 8) >>> 0;
  const bitsHigh = Math.floor(length / 0x20000000) >>> 0;
  const lp = padded - 8;
  tail[lp] = bitsLow & 0xff;
  tail[lp + 1] = (bitsLow >>> 8) & 0xff;
  tail[lp + 2] = (bitsLow >>> 16) & 0xff;
  tail[lp + 3] = bitsLow >>> 24;
  tail[lp + 4] = bitsHigh & 0xff;
  tail[lp + 5] = (bitsHigh >>> 8) & 0xff;
  tail[lp + 6] = (bitsHigh >>> 16) & 0xff;
  tail[lp + 7] = bitsHigh >>> 24;
  compress(tail, 0);
  if (padded === 128) compress(tail, 64);
  for (let j = 0; j < 4; j++) {
    const v = state[j]!;
    const o = outOffset + j * 4;
    out[o] = v & 0xff;
    out[o + 1] = (v >>> 8) & 0xff;
    out[o + 2] = (v >>> 16) & 0xff;
    out[o + 3] = v >>> 24;
  }
}
