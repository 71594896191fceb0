/** A set of small non-negative integers, one bit each, grown on demand: one per (stream, recipient). */
export class GrowableBitset {
  private bits = new Uint8Array(16);
  size = 0;

  /** Adds `n`; false when it was already there. */
  add(n: number): boolean {
    const byte = n >>> 3;
    if (byte >= this.bits.length) {
      const grown = new Uint8Array(Math.max(this.bits.length * 2, byte + 1));
      grown.set(this.bits);
      this.bits = grown;
    }
    const mask = 1 << (n & 7);
    const old = this.bits[byte] ?? 0;
    if (old & mask) return false;
    this.bits[byte] = old | mask;
    this.size++;
    return true;
  }

  has(n: number): boolean {
    return ((this.bits[n >>> 3] ?? 0) & (1 << (n & 7))) !== 0;
  }
}
