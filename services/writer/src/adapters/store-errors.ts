import { classifyStoreAnswer, STORE_ANSWERS } from '@splitstream/shared';
import { StoreRejectedError, StoreUnavailableError, StoreUnknownError } from '../errors';

export type StoreError = StoreUnavailableError | StoreRejectedError | StoreUnknownError;

/** Maps a driver error raised for a whole bulk call to the writer's error hierarchy (see STORE_ANSWERS). */
export function classifyStoreError(error: unknown): StoreError {
  if (
    error instanceof StoreUnavailableError ||
    error instanceof StoreRejectedError ||
    error instanceof StoreUnknownError
  ) {
    return error;
  }
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | null)?.code;
  switch (classifyStoreAnswer(error)) {
    case STORE_ANSWERS.unreachable:
      return new StoreUnavailableError(`store unreachable: ${message}`, { cause: error });
    case STORE_ANSWERS.unableToServe:
      return new StoreUnavailableError(`store cannot serve: ${message}`, { cause: error });
    case STORE_ANSWERS.documentRefused:
      return new StoreRejectedError(message, {
        cause: error,
        code: typeof code === 'number' ? code : undefined,
      });
    default:
      return new StoreUnknownError(`store write failed: ${message}`, { cause: error });
  }
}
