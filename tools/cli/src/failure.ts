/** Why a request failed, in an operator's words ("connection refused", "no answer within 3000 ms"). */
export function failureReason(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code === 'ECONNREFUSED') return 'connection refused';
  if (cause?.code) return cause.code;
  const name = (error as Error).name;
  if (name === 'TimeoutError' || name === 'AbortError') return 'no answer in time';
  return (error as Error).message || String(error);
}
