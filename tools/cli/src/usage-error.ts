/** A command line that cannot be run as given: the message says why, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
