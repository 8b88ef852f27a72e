import {
  MongoBulkWriteError,
  MongoError,
  MongoInvalidArgumentError,
  MongoNetworkError,
  MongoServerSelectionError,
  MongoTopologyClosedError,
  MongoWriteConcernError,
} from 'mongodb';

/**
 * What a store answer (an error from the driver or the server) lets the caller do:
 * - unreachable: no connection to the endpoint; wait, retry, read elsewhere.
 * - unable-to-serve: the endpoint answers but cannot serve now (its backend is down, it is not the
 *   primary any more, it is shutting down); same remedies as unreachable.
 * - document-refused: the store will never accept this document or request as it is.
 * - unknown: nobody classified it; retry a bounded number of times, then isolate.
 */
export const STORE_ANSWERS = Object.freeze({
  unreachable: 'unreachable',
  unableToServe: 'unable-to-serve',
  documentRefused: 'document-refused',
  unknown: 'unknown',
} as const);
export type StoreAnswer = (typeof STORE_ANSWERS)[keyof typeof STORE_ANSWERS];

/** Duplicate key: the document is already stored (a client retry or a Kafka redelivery). */
export const DUPLICATE_KEY = 11000;

/** MongoDB codes of an endpoint that cannot serve right now (not primary, shutting down, host gone). */
const UNABLE_TO_SERVE_CODES: ReadonlySet<number> = new Set([
  6, // HostUnreachable
  7, // HostNotFound
  50, // MaxTimeMSExpired: it could not answer within the bound we gave
  64, // WriteConcernFailed
  89, // NetworkTimeout
  91, // ShutdownInProgress
  189, // PrimarySteppedDown
  262, // ExceededTimeLimit
  9001, // SocketException
  10107, // NotWritablePrimary
  11600, // InterruptedAtShutdown
  11602, // InterruptedDueToReplStateChange
  13435, // NotPrimaryNoSecondaryOk
  13436, // NotPrimaryOrSecondary
]);

/** MongoDB codes that refuse one document for good. */
const DOCUMENT_REFUSED_CODES: ReadonlySet<number> = new Set([
  2, // BadValue (e.g. a field name starting with `$`)
  9, // FailedToParse
  14, // TypeMismatch
  22, // InvalidBSON
  52, // DollarPrefixedFieldName
  55, // InvalidDBRef
  57, // DottedFieldName
  121, // DocumentValidationFailure
  10334, // BSONObjectTooLarge
  17280, // KeyTooLong
  17419, // document too large after update
]);

/** Labels the server or driver puts on transient failures. */
const TRANSIENT_LABELS = ['RetryableWriteError', 'ResetPool', 'SystemOverloadedError'];

/**
 * The local store (FerretDB over PostgreSQL) reports its backend's failures as InternalError
 * (code 1) with PostgreSQL's message inside. Connection failures and these SQLSTATE classes mean
 * the endpoint cannot serve: 08 connection exception, 53 insufficient resources, 57P0x shutdown or
 * cannot connect now, 25006 read-only transaction (a standby asked to write: not the primary).
 */
const BACKEND_UNAVAILABLE =
  /failed to connect to|dial error|connection refused|conn closed|unexpected EOF|broken pipe|connection reset|closed pool|SQLSTATE (08...|53...|57P0.|25006)/i;
/**
 * SQLSTATEs that refuse the data itself: 22P05 untranslatable character (U+0000, lone surrogates),
 * 22021 character not in repertoire, 22P02 invalid text representation, 54xxx program limits
 * (too deep, too many columns, a row too large for an index).
 */
const BACKEND_REFUSED = /SQLSTATE (22P05|22021|22P02|54...)/;

const SOCKET_ERROR_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'ECONNABORTED',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

/** Classifies one answer of the store by what can be done about it (see STORE_ANSWERS). */
export function classifyStoreAnswer(error: unknown): StoreAnswer {
  if (
    error instanceof MongoServerSelectionError ||
    error instanceof MongoNetworkError ||
    error instanceof MongoTopologyClosedError
  ) {
    return STORE_ANSWERS.unreachable;
  }
  // A connection reset while the driver writes a command surfaces as the bare socket error.
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && SOCKET_ERROR_CODES.has(code)) return STORE_ANSWERS.unreachable;
  // Raised by the driver before sending (a document over 16 MiB, a key with U+0000): the request
  // itself is at fault. A bulk write carries the serializer's error as its response.
  const response = (error as { errorResponse?: unknown } | null)?.errorResponse;
  if (error instanceof MongoInvalidArgumentError || [error, response].some(isSerializerError)) {
    return STORE_ANSWERS.documentRefused;
  }
  if (!(error instanceof MongoError)) return STORE_ANSWERS.unknown;
  if (error instanceof MongoWriteConcernError) return STORE_ANSWERS.unableToServe;
  if (error instanceof MongoBulkWriteError && error.result?.getWriteConcernError?.()) {
    return STORE_ANSWERS.unableToServe;
  }
  return classifyServerAnswer(typeof code === 'number' ? code : undefined, error.message, error.errorLabels);
}

function isSerializerError(value: unknown): boolean {
  return value instanceof Error && value.name === 'BSONError';
}

/** Classifies a server's answer from its code and message (also used for one write error of a bulk call). */
export function classifyServerAnswer(
  code: number | undefined,
  message: string,
  labels: readonly string[] = [],
): StoreAnswer {
  if (code !== undefined && UNABLE_TO_SERVE_CODES.has(code)) return STORE_ANSWERS.unableToServe;
  if (labels.some((label) => TRANSIENT_LABELS.includes(label))) return STORE_ANSWERS.unableToServe;
  if (code !== undefined && DOCUMENT_REFUSED_CODES.has(code)) return STORE_ANSWERS.documentRefused;
  if (BACKEND_UNAVAILABLE.test(message)) return STORE_ANSWERS.unableToServe;
  if (BACKEND_REFUSED.test(message)) return STORE_ANSWERS.documentRefused;
  return STORE_ANSWERS.unknown;
}

/** The endpoint cannot serve now (unreachable, or answering but unable): wait, retry, or read elsewhere. */
/** The server gave up on the request at the maxTimeMS bound it was sent with (the request, not the endpoint, is slow). */
export function isTimeLimitExceeded(error: unknown): boolean {
  return error instanceof MongoError && (error.code === 50 || error.code === 262);
}

export function isStoreUnavailable(error: unknown): boolean {
  const answer = classifyStoreAnswer(error);
  return answer === STORE_ANSWERS.unreachable || answer === STORE_ANSWERS.unableToServe;
}
