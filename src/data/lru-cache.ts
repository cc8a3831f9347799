/**
 * A bounded least-recently-used cache of promises, sized in bytes. Concurrent requests for the same key share one
 * load; a failed load is not cached. Used to decode each training image once and keep the working set in memory.
 *
 * @example
 * ```ts
 * const cache = new LruCache<RawImage<Uint8Array | Float32Array>>(512 << 20, (img) => img.data.byteLength);
 * const img = await cache.get('t1.png', () => loadImage('t1.png'));
 * cache.dispose();
 * ```
 */
export class LruCache<V> {
  private readonly map = new Map<string, { promise: Promise<V>; bytes: number }>();
  private total = 0;
  /** Loads performed (cache misses), for tests and statistics. */
  misses = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly sizeOf: (v: V) => number,
  ) {}

  /** Returns the cached value for `key`, loading it with `load` on a miss. */
  get(key: string, load: () => Promise<V>): Promise<V> {
    const hit = this.map.get(key);
    if (hit) {
      this.map.delete(key);
      this.map.set(key, hit);
      return hit.promise;
    }
    this.misses++;
    const entry = { promise: load(), bytes: 0 };
    this.map.set(key, entry);
    entry.promise.then(
      (v) => {
        if (this.map.get(key) !== entry) return;
        entry.bytes = this.sizeOf(v);
        this.total += entry.bytes;
        this.evict(key);
      },
      () => {
        if (this.map.get(key) === entry) this.map.delete(key);
      },
    );
    return entry.promise;
  }

  /** Number of entries held (including loads in flight). */
  get size(): number {
    return this.map.size;
  }

  /** Bytes held by loaded entries. */
  get bytes(): number {
    return this.total;
  }

  private evict(keep: string): void {
    for (const [k, e] of this.map) {
      if (this.total <= this.maxBytes) break;
      if (k === keep || e.bytes === 0) continue;
      this.map.delete(k);
      this.total -= e.bytes;
    }
  }

  /** Empties the cache. */
  dispose(): void {
    this.map.clear();
    this.total = 0;
  }
}
