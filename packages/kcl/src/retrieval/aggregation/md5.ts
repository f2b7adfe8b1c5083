/**
 * MD5 (RFC 1321) in plain JavaScript for short inputs such as partition keys.
 *
 * Why not `node:crypto`? Deaggregation with hash-range filtering hashes one partition key per
 * distinct key of every aggregated record; for keys of a few dozen bytes the cost of a native
 * call and a `Buffer` per digest dominates (≈1.4 µs), while this unrolled loop takes a small
 * fraction of that and writes into a caller-supplied array. Long inputs (the aggregate's own
 * checksum) still go through `node:crypto`. Checked against `node:crypto` in the tests.
 * @module
 */

/** Chaining state (A, B, C, D) of the digest being computed; digests are computed synchronously. */
const state = new Int32Array(4);
/** The 16 little-endian message words of the block being compressed... */
const W = new Int32Array(16);
/** ...and the same memory as bytes, so a short tail is copied in byte by byte and read as words. */
const WB = new Uint8Array(W.buffer);
/** Reading bytes written into `WB` as `W` words is MD5's word order only on little-endian hosts. */
const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

/** Loads the 64-byte block at `m[o..o+64)` into `W`. */
function loadBlock(m: Uint8Array, o: number): void {
  for (let j = 0; j < 16; j++) {
    const p = o + j * 4;
    W[j] = m[p]! | (m[p + 1]! << 8) | (m[p + 2]! << 16) | (m[p + 3]! << 24);
  }
}

/** On a big-endian host, turns the bytes written into `WB` into little-endian words. */
function fixWordOrder(): void {
  if (LITTLE_ENDIAN) return;
  for (let j = 0; j < 16; j++) {
    const p = j * 4;
    W[j] = WB[p]! | (WB[p + 1]! << 8) | (WB[p + 2]! << 16) | (WB[p + 3]! << 24);
  }
}

/** Compresses the block held in `W` into `state`. */
function compress(): void {
  const w0 = W[0]!, w1 = W[1]!, w2 = W[2]!, w3 = W[3]!, w4 = W[4]!, w5 = W[5]!, w6 = W[6]!, w7 = W[7]!;
  const w8 = W[8]!, w9 = W[9]!, w10 = W[10]!, w11 = W[11]!, w12 = W[12]!, w13 = W[13]!, w14 = W[14]!, w15 = W[15]!;
  let a = state[0]!;
  let b = state[1]!;
  let c = state[2]!;
  let d = state[3]!;
  let n: number;
  // 64 steps, unrolled: n = a + F(b, c, d) + w[g] + T[i]; a = b + (n <<< s), all modulo 2^32.
  // The constants T[i] = floor(|sin(i + 1)| × 2^32) are written as signed 32-bit integers so the
  // engine keeps every operation in 32-bit integer arithmetic.
  n = (a + ((b & c) | (~b & d)) + w0 + -680876936) | 0;
  a = (((n << 7) | (n >>> 25)) + b) | 0;
  n = (d + ((a & b) | (~a & c)) + w1 + -389564586) | 0;
  d = (((n << 12) | (n >>> 20)) + a) | 0;
  n = (c + ((d & a) | (~d & b)) + w2 + 606105819) | 0;
  c = (((n << 17) | (n >>> 15)) + d) | 0;
  n = (b + ((c & d) | (~c & a)) + w3 + -1044525330) | 0;
  b = (((n << 22) | (n >>> 10)) + c) | 0;
  n = (a + ((b & c) | (~b & d)) + w4 + -176418897) | 0;
  a = (((n << 7) | (n >>> 25)) + b) | 0;
  n = (d + ((a & b) | (~a & c)) + w5 + 1200080426) | 0;
  d = (((n << 12) | (n >>> 20)) + a) | 0;
  n = (c + ((d & a) | (~d & b)) + w6 + -1473231341) | 0;
  c = (((n << 17) | (n >>> 15)) + d) | 0;
  n = (b + ((c & d) | (~c & a)) + w7 + -45705983) | 0;
  b = (((n << 22) | (n >>> 10)) + c) | 0;
  n = (a + ((b & c) | (~b & d)) + w8 + 1770035416) | 0;
  a = (((n << 7) | (n >>> 25)) + b) | 0;
  n = (d + ((a & b) | (~a & c)) + w9 + -1958414417) | 0;
  d = (((n << 12) | (n >>> 20)) + a) | 0;
  n = (c + ((d & a) | (~d & b)) + w10 + -42063) | 0;
  c = (((n << 17) | (n >>> 15)) + d) | 0;
  n = (b + ((c & d) | (~c & a)) + w11 + -1990404162) | 0;
  b = (((n << 22) | (n >>> 10)) + c) | 0;
  n = (a + ((b & c) | (~b & d)) + w12 + 1804603682) | 0;
  a = (((n << 7) | (n >>> 25)) + b) | 0;
  n = (d + ((a & b) | (~a & c)) + w13 + -40341101) | 0;
  d = (((n << 12) | (n >>> 20)) + a) | 0;
  n = (c + ((d & a) | (~d & b)) + w14 + -1502002290) | 0;
  c = (((n << 17) | (n >>> 15)) + d) | 0;
  n = (b + ((c & d) | (~c & a)) + w15 + 1236535329) | 0;
  b = (((n << 22) | (n >>> 10)) + c) | 0;
  n = (a + ((b & d) | (c & ~d)) + w1 + -165796510) | 0;
  a = (((n << 5) | (n >>> 27)) + b) | 0;
  n = (d + ((a & c) | (b & ~c)) + w6 + -1069501632) | 0;
  d = (((n << 9) | (n >>> 23)) + a) | 0;
  n = (c + ((d & b) | (a & ~b)) + w11 + 643717713) | 0;
  c = (((n << 14) | (n >>> 18)) + d) | 0;
  n = (b + ((c & a) | (d & ~a)) + w0 + -373897302) | 0;
  b = (((n << 20) | (n >>> 12)) + c) | 0;
  n = (a + ((b & d) | (c & ~d)) + w5 + -701558691) | 0;
  a = (((n << 5) | (n >>> 27)) + b) | 0;
  n = (d + ((a & c) | (b & ~c)) + w10 + 38016083) | 0;
  d = (((n << 9) | (n >>> 23)) + a) | 0;
  n = (c + ((d & b) | (a & ~b)) + w15 + -660478335) | 0;
  c = (((n << 14) | (n >>> 18)) + d) | 0;
  n = (b + ((c & a) | (d & ~a)) + w4 + -405537848) | 0;
  b = (((n << 20) | (n >>> 12)) + c) | 0;
  n = (a + ((b & d) | (c & ~d)) + w9 + 568446438) | 0;
  a = (((n << 5) | (n >>> 27)) + b) | 0;
  n = (d + ((a & c) | (b & ~c)) + w14 + -1019803690) | 0;
  d = (((n << 9) | (n >>> 23)) + a) | 0;
  n = (c + ((d & b) | (a & ~b)) + w3 + -187363961) | 0;
  c = (((n << 14) | (n >>> 18)) + d) | 0;
  n = (b + ((c & a) | (d & ~a)) + w8 + 1163531501) | 0;
  b = (((n << 20) | (n >>> 12)) + c) | 0;
  n = (a + ((b & d) | (c & ~d)) + w13 + -1444681467) | 0;
  a = (((n << 5) | (n >>> 27)) + b) | 0;
  n = (d + ((a & c) | (b & ~c)) + w2 + -51403784) | 0;
  d = (((n << 9) | (n >>> 23)) + a) | 0;
  n = (c + ((d & b) | (a & ~b)) + w7 + 1735328473) | 0;
  c = (((n << 14) | (n >>> 18)) + d) | 0;
  n = (b + ((c & a) | (d & ~a)) + w12 + -1926607734) | 0;
  b = (((n << 20) | (n >>> 12)) + c) | 0;
  n = (a + (b ^ c ^ d) + w5 + -378558) | 0;
  a = (((n << 4) | (n >>> 28)) + b) | 0;
  n = (d + (a ^ b ^ c) + w8 + -2022574463) | 0;
  d = (((n << 11) | (n >>> 21)) + a) | 0;
  n = (c + (d ^ a ^ b) + w11 + 1839030562) | 0;
  c = (((n << 16) | (n >>> 16)) + d) | 0;
  n = (b + (c ^ d ^ a) + w14 + -35309556) | 0;
  b = (((n << 23) | (n >>> 9)) + c) | 0;
  n = (a + (b ^ c ^ d) + w1 + -1530992060) | 0;
  a = (((n << 4) | (n >>> 28)) + b) | 0;
  n = (d + (a ^ b ^ c) + w4 + 1272893353) | 0;
  d = (((n << 11) | (n >>> 21)) + a) | 0;
  n = (c + (d ^ a ^ b) + w7 + -155497632) | 0;
  c = (((n << 16) | (n >>> 16)) + d) | 0;
  n = (b + (c ^ d ^ a) + w10 + -1094730640) | 0;
  b = (((n << 23) | (n >>> 9)) + c) | 0;
  n = (a + (b ^ c ^ d) + w13 + 681279174) | 0;
  a = (((n << 4) | (n >>> 28)) + b) | 0;
  n = (d + (a ^ b ^ c) + w0 + -358537222) | 0;
  d = (((n << 11) | (n >>> 21)) + a) | 0;
  n = (c + (d ^ a ^ b) + w3 + -722521979) | 0;
  c = (((n << 16) | (n >>> 16)) + d) | 0;
  n = (b + (c ^ d ^ a) + w6 + 76029189) | 0;
  b = (((n << 23) | (n >>> 9)) + c) | 0;
  n = (a + (b ^ c ^ d) + w9 + -640364487) | 0;
  a = (((n << 4) | (n >>> 28)) + b) | 0;
  n = (d + (a ^ b ^ c) + w12 + -421815835) | 0;
  d = (((n << 11) | (n >>> 21)) + a) | 0;
  n = (c + (d ^ a ^ b) + w15 + 530742520) | 0;
  c = (((n << 16) | (n >>> 16)) + d) | 0;
  n = (b + (c ^ d ^ a) + w2 + -995338651) | 0;
  b = (((n << 23) | (n >>> 9)) + c) | 0;
  n = (a + (c ^ (b | ~d)) + w0 + -198630844) | 0;
  a = (((n << 6) | (n >>> 26)) + b) | 0;
  n = (d + (b ^ (a | ~c)) + w7 + 1126891415) | 0;
  d = (((n << 10) | (n >>> 22)) + a) | 0;
  n = (c + (a ^ (d | ~b)) + w14 + -1416354905) | 0;
  c = (((n << 15) | (n >>> 17)) + d) | 0;
  n = (b + (d ^ (c | ~a)) + w5 + -57434055) | 0;
  b = (((n << 21) | (n >>> 11)) + c) | 0;
  n = (a + (c ^ (b | ~d)) + w12 + 1700485571) | 0;
  a = (((n << 6) | (n >>> 26)) + b) | 0;
  n = (d + (b ^ (a | ~c)) + w3 + -1894986606) | 0;
  d = (((n << 10) | (n >>> 22)) + a) | 0;
  n = (c + (a ^ (d | ~b)) + w10 + -1051523) | 0;
  c = (((n << 15) | (n >>> 17)) + d) | 0;
  n = (b + (d ^ (c | ~a)) + w1 + -2054922799) | 0;
  b = (((n << 21) | (n >>> 11)) + c) | 0;
  n = (a + (c ^ (b | ~d)) + w8 + 1873313359) | 0;
  a = (((n << 6) | (n >>> 26)) + b) | 0;
  n = (d + (b ^ (a | ~c)) + w15 + -30611744) | 0;
  d = (((n << 10) | (n >>> 22)) + a) | 0;
  n = (c + (a ^ (d | ~b)) + w6 + -1560198380) | 0;
  c = (((n << 15) | (n >>> 17)) + d) | 0;
  n = (b + (d ^ (c | ~a)) + w13 + 1309151649) | 0;
  b = (((n << 21) | (n >>> 11)) + c) | 0;
  n = (a + (c ^ (b | ~d)) + w4 + -145523070) | 0;
  a = (((n << 6) | (n >>> 26)) + b) | 0;
  n = (d + (b ^ (a | ~c)) + w11 + -1120210379) | 0;
  d = (((n << 10) | (n >>> 22)) + a) | 0;
  n = (c + (a ^ (d | ~b)) + w2 + 718787259) | 0;
  c = (((n << 15) | (n >>> 17)) + d) | 0;
  n = (b + (d ^ (c | ~a)) + w9 + -343485551) | 0;
  b = (((n << 21) | (n >>> 11)) + c) | 0;
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
    loadBlock(input, pos);
    compress();
    pos += 64;
  }
  // Padding: the remaining bytes, 0x80, zeros, and the bit length as a 64-bit little-endian
  // integer in the last two words; one more block when the remainder leaves no room for it.
  const rest = end - pos;
  for (let j = 0; j < 16; j++) W[j] = 0;
  for (let i = 0; i < rest; i++) WB[i] = input[pos + i]!;
  WB[rest] = 0x80;
  fixWordOrder();
  if (rest >= 56) {
    compress();
    for (let j = 0; j < 16; j++) W[j] = 0;
  }
  W[14] = length * 8;
  W[15] = Math.floor(length / 0x20000000);
  compress();
  for (let j = 0; j < 4; j++) {
    const v = state[j]!;
    const o = outOffset + j * 4;
    out[o] = v;
    out[o + 1] = v >>> 8;
    out[o + 2] = v >>> 16;
    out[o + 3] = v >>> 24;
  }
}
