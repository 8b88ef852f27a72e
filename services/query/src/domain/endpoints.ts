import { isStoreUnavailable, UnavailableError } from '@splitstream/shared';
import type { Db, MongoClient, TopologyDescriptionChangedEvent } from 'mongodb';

/** Which store endpoint answered a read: reported in metrics and the `Splitstream-Served-By` header. */
export const SERVED_BY = Object.freeze({ replica: 'replica', primary: 'primary' } as const);
export type ServedBy = (typeof SERVED_BY)[keyof typeof SERVED_BY];

/**
 * One store endpoint and what we know about its health. Two signals: the driver's own monitoring
 * (topology events: it heartbeats the endpoint and notices both loss and recovery) and failures of
 * our operations (noticed at once, before the next heartbeat; they expire after `failureHoldMs` so a
 * one-off network error cannot keep an endpoint out of rotation).
 */
export class Endpoint {
  readonly db: Db;
  private monitoredUp = true;
  private failedUntil = 0;

  constructor(
    readonly name: ServedBy,
    readonly client: MongoClient,
    database: string,
    private readonly failureHoldMs: number,
    private readonly onChange: (endpoint: Endpoint) => void = () => {},
  ) {
    this.db = client.db(database);
    client.on('topologyDescriptionChanged', (event: TopologyDescriptionChangedEvent) => {
      const up = event.newDescription.hasDataBearingServers;
      if (up !== this.monitoredUp) {
        this.monitoredUp = up;
        if (up) this.failedUntil = 0;
        this.onChange(this);
      }
    });
  }

  get usable(): boolean {
    return this.monitoredUp && Date.now() >= this.failedUntil;
  }

  markFailed(): void {
    this.failedUntil = Date.now() + this.failureHoldMs;
    this.onChange(this);
  }
}

export interface RoutedRead<T> {
  value: T;
  servedBy: ServedBy;
}

/**
 * Sends each read to the replica, or to the primary when the replica is unavailable. The local read
 * endpoint is one directly connected FerretDB (the driver's secondaryPreferred cannot fall back from
 * it by itself), so the fallback is explicit; with a replica set URI the driver also does its own.
 */
export class ReadRouter {
  constructor(
    readonly replica: Endpoint,
    readonly primary: Endpoint,
    private readonly onFallback: (from: Endpoint, error: unknown) => void = () => {},
  ) {}

  async read<T>(operation: (endpoint: Endpoint) => Promise<T>): Promise<RoutedRead<T>> {
    if (this.replica.usable) {
      try {
        return { value: await operation(this.replica), servedBy: this.replica.name };
      } catch (error) {
        if (!isStoreUnavailable(error)) throw error;
        this.replica.markFailed();
        this.onFallback(this.replica, error);
      }
    }
    // The primary is the last resort: tried even when it looks down, since its health may be stale.
    try {
      return { value: await operation(this.primary), servedBy: this.primary.name };
    } catch (error) {
      if (!isStoreUnavailable(error)) throw error;
      this.primary.markFailed();
      throw new UnavailableError('no store endpoint can serve (neither the read endpoint nor the primary)', {
        cause: error,
        retryAfterSeconds: 1,
      });
    }
  }

  /**
   * Proves each endpoint can read (a real find, which reaches the store's backend; a ping does not)
   * and holds out the one that cannot. Resolves to which endpoints can serve.
   */
  async probe(find: (endpoint: Endpoint) => Promise<unknown>): Promise<Record<ServedBy, string>> {
    const results = await Promise.all(
      [this.replica, this.primary].map(async (endpoint) => {
        try {
          await find(endpoint);
          return [endpoint.name, 'ok'] as const;
        } catch (error) {
          if (isStoreUnavailable(error)) endpoint.markFailed();
          return [endpoint.name, error instanceof Error ? error.message : String(error)] as const;
        }
      }),
    );
    return Object.fromEntries(results) as Record<ServedBy, string>;
  }
}
