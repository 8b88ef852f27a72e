import type { Db } from 'mongodb';

/**
 * One read on one store endpoint: its database and the time bound every query of the read is sent
 * with (maxTimeMS), so a slow query ends on the server instead of piling up behind others.
 */
export interface StoreRead {
  db: Db;
  maxTimeMS: number;
}
