import { MongoError, MongoInvalidArgumentError, MongoNetworkError, MongoServerSelectionError } from 'mongodb';
import { StoreRejectedError, StoreUnavailableError } from '../errors';

/** Duplicate key: the event is already stored (a client retry or a Kafka redelivery). */
export const DUPLICATE_KEY = 11000;

/**
 * Server codes that reject one document for good. Anything not listed here is treated as
 * retriable: an unknown failure stalls the partition (visible as lag) rather than losing events.
 */
export const PERMANENT_DOCUMENT_CODES: ReadonlySet<number> = new Set([
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

export function isPermanentCode(code: unknown): boolean {
  return typeof code === 'number' && PERMANENT_DOCUMENT_CODES.has(code);
}

/** Maps a driver error raised for a whole bulk call to the writer's error hierarchy. */
export function classifyStoreError(error: unknown): StoreUnavailableError | StoreRejectedError {
  if (error instanceof StoreUnavailableError || error instanceof StoreRejectedError) return error;
  const message = error instanceof Error ? error.message : String(error);
  // Raised by the driver before sending (e.g. a document over 16 MiB): the request itself is at fault.
  if (error instanceof MongoInvalidArgumentError || (error instanceof Error && error.name === 'BSONError')) {
    return new StoreRejectedError(message, { cause: error });
  }
  if (error instanceof MongoNetworkError || error instanceof MongoServerSelectionError) {
    return new StoreUnavailableError(`store unreachable: ${message}`, { cause: error });
  }
  if (error instanceof MongoError && isPermanentCode(error.code)) {
    return new StoreRejectedError(message, { cause: error, code: error.code as number });
  }
  return new StoreUnavailableError(`store write not acknowledged: ${message}`, { cause: error });
}
