/**
 * Identities this writer saw the store acknowledge, most recent last, bounded. A redelivered or
 * retried event found here is a known duplicate and is not sent again: the store's unique key
 * stays the guarantee, this only spares the slow path a duplicate-key error costs a bulk insert
 * (FerretDB, for one, falls back to one insert per document when any of them fails).
 */
export class RecentIds {
  private readonly ids = new Set<string>();

  constructor(private readonly capacity: number) {}

  has(id: string): boolean {
    return this.ids.has(id);
  }

  add(id: string): void {
    if (this.capacity <= 0) return;
    this.ids.delete(id);
    this.ids.add(id);
    // A Set iterates in insertion order: the first one is the least recently stored.
    for (const oldest of this.ids) {
      if (this.ids.size <= this.capacity) break;
      this.ids.delete(oldest);
    }
  }

  get size(): number {
    return this.ids.size;
  }
}
