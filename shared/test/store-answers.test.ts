/**
 * The classification of store answers, against the real local store for every row it can produce:
 * a closed port (unreachable), a FerretDB endpoint whose PostgreSQL is gone and the read-only
 * standby asked to write (unable to serve), strings PostgreSQL refuses (document refused), and a
 * command nobody classified (unknown).
 */
import { MongoClient, MongoServerError } from 'mongodb';
import {
  classifyServerAnswer,
  classifyStoreAnswer,
  isStoreUnavailable,
  STORE,
  STORE_ANSWERS,
  storableString,
} from '../src';
import {
  freePort,
  type StoreWithoutBackend,
  startStoreWithoutBackend,
  testInfra,
  uniqueName,
  waitFor,
} from '../src/testing';

const infra = testInfra();
const options = { serverSelectionTimeoutMS: 1_500, connectTimeoutMS: 1_000 };

async function answerOf(operation: () => Promise<unknown>): Promise<unknown> {
  try {
    await operation();
  } catch (error) {
    return error;
  }
  throw new Error('the operation succeeded; expected the store to refuse it');
}

describe('classifyStoreAnswer against the real local store', () => {
  const clients: MongoClient[] = [];
  const client = (uri: string) => {
    const created = new MongoClient(uri, options);
    clients.push(created);
    return created.db(STORE.database);
  };
  const collection = uniqueName('answers');
  let deadBackend: StoreWithoutBackend | undefined;

  afterAll(async () => {
    await client(infra.writeUri)
      .collection(collection)
      .drop()
      .catch(() => undefined);
    await Promise.all(clients.map((c) => c.close()));
    await deadBackend?.stop();
  });

  it('unreachable: nothing listens on the port', async () => {
    const port = await freePort();
    const error = await answerOf(() =>
      client(`mongodb://127.0.0.1:${port}/?directConnection=true`).command({ ping: 1 }),
    );
    expect(classifyStoreAnswer(error)).toBe(STORE_ANSWERS.unreachable);
    expect(isStoreUnavailable(error)).toBe(true);
  });

  it('unable to serve: the endpoint answers but its PostgreSQL is gone', async () => {
    deadBackend = await startStoreWithoutBackend();
    const db = client(deadBackend.uri);
    // The endpoint accepts connections (a hello answers) while every query fails on its backend.
    const error = await waitFor(
      async () => {
        const answer = await answerOf(() => db.collection('events').findOne({ tenant: 'x' }));
        return answer instanceof MongoServerError ? answer : undefined;
      },
      { what: 'FerretDB to answer with its backend error', timeoutMs: 15_000 },
    );
    expect(error.message).toMatch(/failed to connect/);
    expect(classifyStoreAnswer(error)).toBe(STORE_ANSWERS.unableToServe);
    expect(isStoreUnavailable(error)).toBe(true);
  });

  it('unable to serve: the read-only standby endpoint is asked to write', async () => {
    const error = await answerOf(() => client(infra.readUri).collection(collection).insertOne({ a: 1 }));
    expect((error as Error).message).toMatch(/read-only transaction/);
    expect(classifyStoreAnswer(error)).toBe(STORE_ANSWERS.unableToServe);
  });

  // (A lone surrogate is not refused: BSON strings are UTF-8, so the driver writes U+FFFD instead.)
  it.each([
    ['U+0000 in a value (PostgreSQL refuses it)', { data: 'a\u0000b' }, /SQLSTATE 22P05/],
    ['U+0000 in a key (the driver refuses it)', { 'a\u0000b': 1 }, /must not contain null bytes/],
  ])('document refused: %s', async (_case, document, message) => {
    const db = client(infra.writeUri);
    const error = await answerOf(() =>
      db.collection(collection).insertMany([{ ok: 1 }, document, { ok: 2 }], { ordered: false }),
    );
    expect((error as Error).message).toMatch(message);
    expect(classifyStoreAnswer(error)).toBe(STORE_ANSWERS.documentRefused);
    expect(isStoreUnavailable(error)).toBe(false);
    // What describes such an event (a dead letter's id or key) is made storable.
    await db
      .collection(collection)
      .insertOne({ data: storableString(JSON.stringify(document).replace(/\\u0000/g, '\u0000')) });
  });

  it('unknown: an answer nobody classified', async () => {
    const error = await answerOf(() => client(infra.writeUri).command({ splitstreamNoSuchCommand: 1 }));
    expect(error).toBeInstanceOf(MongoServerError);
    expect(classifyStoreAnswer(error)).toBe(STORE_ANSWERS.unknown);
    expect(classifyStoreAnswer(new Error('boom'))).toBe(STORE_ANSWERS.unknown);
  });
});

describe('classifyServerAnswer (MongoDB codes the local store cannot produce)', () => {
  it.each([
    [10107, 'NotWritablePrimary', STORE_ANSWERS.unableToServe],
    [13436, 'NotPrimaryOrSecondary', STORE_ANSWERS.unableToServe],
    [91, 'ShutdownInProgress', STORE_ANSWERS.unableToServe],
    [6, 'HostUnreachable', STORE_ANSWERS.unableToServe],
    [11602, 'InterruptedDueToReplStateChange', STORE_ANSWERS.unableToServe],
    [50, 'MaxTimeMSExpired', STORE_ANSWERS.unableToServe],
    [2, 'BadValue', STORE_ANSWERS.documentRefused],
    [10334, 'BSONObjectTooLarge', STORE_ANSWERS.documentRefused],
    [424242, 'something new', STORE_ANSWERS.unknown],
  ])('code %i (%s)', (code, message, expected) => {
    expect(classifyServerAnswer(code, message)).toBe(expected);
  });

  it('a transient label makes any code unable to serve', () => {
    expect(classifyServerAnswer(424242, 'x', ['RetryableWriteError'])).toBe(STORE_ANSWERS.unableToServe);
  });

  it('storableString replaces only what PostgreSQL refuses', () => {
    expect(storableString('a\u0000b\ud800c\udc00d')).toBe('a\ufffdb\ufffdc\ufffdd');
    expect(storableString('ok 😀')).toBe('ok 😀');
  });
});
