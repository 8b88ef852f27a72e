import { DEAD_LETTER_REASONS, type ReplayAnswer } from '@splitstream/shared';
import { failureReason } from './failure';

/** The dead-letter replay the CLI asks the gateway for (POST /v1/deadletters/replay, scope events:admin). */
export interface ReplayCommand {
  gateway: string;
  key: string;
  filter: {
    ids?: string[];
    source?: string;
    type?: string;
    reason?: string;
    since?: string;
    until?: string;
  };
  limit: number | undefined;
  cursor: string | undefined;
  dryRun: boolean;
  includeReplayed: boolean;
}

export const REASONS: readonly string[] = Object.values(DEAD_LETTER_REASONS);

/** The request body: only what was asked (the service's defaults apply to the rest). */
export function replayBody(command: ReplayCommand): Record<string, unknown> {
  const filter = Object.fromEntries(
    Object.entries(command.filter).filter(([, value]) => value !== undefined),
  );
  return {
    ...(Object.keys(filter).length > 0 ? { filter } : {}),
    ...(command.limit === undefined ? {} : { limit: command.limit }),
    ...(command.cursor === undefined ? {} : { cursor: command.cursor }),
    dryRun: command.dryRun,
    ...(command.includeReplayed ? { includeReplayed: true } : {}),
  };
}

/** What a replay answer says, for a person. */
export function formatReplay(answer: ReplayAnswer): string {
  const lines = [
    answer.dryRun
      ? `dry run: ${answer.matched} matched, ${answer.replayed} would be replayed, ${answer.skipped.length} skipped, ${answer.alreadyReplayed} left out as replayed before`
      : `replayed ${answer.replayed} of ${answer.matched} matched, ${answer.skipped.length} skipped, ${answer.alreadyReplayed} left out as replayed before`,
  ];
  if (answer.ids.length > 0) lines.push(`  events: ${answer.ids.join(', ')}`);
  for (const skip of answer.skipped)
    lines.push(`  skipped ${skip.deadLetterId}${skip.id ? ` (${skip.id})` : ''}: ${skip.reason}`);
  if (answer.token) lines.push(`  token: ${answer.token} (pass as after= to read the replayed events)`);
  if (answer.nextCursor) lines.push(`  more: --cursor ${answer.nextCursor}`);
  return lines.join('\n');
}

/** Sends the replay; resolves to the answer, or throws with the problem the gateway answered. */
export async function sendReplay(command: ReplayCommand, timeoutMs: number): Promise<ReplayAnswer> {
  let response: Response;
  try {
    response = await fetch(`${command.gateway}/v1/deadletters/replay`, {
      method: 'POST',
      headers: { authorization: `Bearer ${command.key}`, 'content-type': 'application/json' },
      body: JSON.stringify(replayBody(command)),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    throw new ReplayRefused(`the gateway at ${command.gateway} did not answer: ${failureReason(error)}`);
  }
  const text = await response.text();
  if (response.status !== 200 && response.status !== 202) {
    let detail = text;
    try {
      const problem = JSON.parse(text) as { title?: string; detail?: string };
      detail = problem.detail ?? problem.title ?? text;
    } catch {}
    throw new ReplayRefused(`the gateway answered ${response.status}: ${detail}`);
  }
  return JSON.parse(text) as ReplayAnswer;
}

export class ReplayRefused extends Error {
  override readonly name = 'ReplayRefused';
}
