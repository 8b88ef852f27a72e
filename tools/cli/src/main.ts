import { type Command, parseCommand, USAGE, UsageError } from './args';
import {
  formatKeyList,
  issueKey,
  KeyFileError,
  publicView,
  readKeyFile,
  withKeyFileLock,
  withoutKey,
  writeKeyFile,
} from './keys';
import { formatReplay, ReplayRefused, sendReplay } from './replay';
import { probeAll } from './status/probe';
import { formatStatus, problemsOf, summaryOf } from './status/report';
import { tail } from './tail';

export interface Output {
  out: (text: string) => void;
  err: (text: string) => void;
}

const STDIO: Output = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

async function run(command: Command, io: Output): Promise<number> {
  switch (command.kind) {
    case 'help':
      io.out(USAGE);
      return 0;
    case 'status': {
      const reports = await probeAll(command.targets, command.timeoutMs);
      const problems = problemsOf(reports);
      if (command.json)
        io.out(`${JSON.stringify({ ok: problems.length === 0, problems, parts: reports }, null, 2)}\n`);
      else io.out(`${formatStatus(reports)}\n\n${summaryOf(reports)}\n`);
      for (const problem of problems) io.err(`problem: ${problem}\n`);
      return problems.length === 0 ? 0 : 1;
    }
    case 'keys-create': {
      const { key, record } = await withKeyFileLock(command.file, () => {
        const file = readKeyFile(command.file);
        const issued = issueKey(file.records, command);
        writeKeyFile({ ...file, records: [...file.records, issued.record] });
        return issued;
      });
      if (command.json) io.out(`${JSON.stringify({ ...publicView(record), key })}\n`);
      else io.out(`${key}\n`);
      io.err(
        `created key ${record.id} (tenant ${record.tenant}, ${record.scopes.join(',')}) in ${command.file}; ` +
          'the key above is shown only now\n',
      );
      return 0;
    }
    case 'keys-list': {
      const { records } = readKeyFile(command.file);
      io.out(
        command.json
          ? `${JSON.stringify(records.map(publicView), null, 2)}\n`
          : `${formatKeyList(records)}\n`,
      );
      return 0;
    }
    case 'keys-revoke': {
      const revoked = await withKeyFileLock(command.file, () => {
        const file = readKeyFile(command.file);
        writeKeyFile({ ...file, records: withoutKey(file.records, command.id) });
        return file.records.find((r) => r.id === command.id);
      });
      io.out(`revoked key ${command.id}${revoked ? ` (tenant ${revoked.tenant})` : ''} in ${command.file}\n`);
      return 0;
    }
    case 'tail': {
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
      try {
        const seen = await tail(
          command,
          (line) => io.out(`${line}\n`),
          (message) => io.err(`${message}\n`),
          stop.signal,
        );
        io.err(`${seen} event(s)\n`);
      } finally {
        process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
      }
      return 0;
    }
    case 'replay': {
      const answer = await sendReplay(command, command.timeoutMs);
      io.out(command.json ? `${JSON.stringify(answer, null, 2)}\n` : `${formatReplay(answer)}\n`);
      return 0;
    }
  }
}

/** Runs one command line; resolves to the exit code (0 ok, 1 a problem, 2 a usage error). */
export async function main(argv: readonly string[], env = process.env, io: Output = STDIO): Promise<number> {
  try {
    return await run(parseCommand(argv, env), io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`splitstream: ${error.message}\n\n${USAGE}`);
      return 2;
    }
    if (error instanceof KeyFileError || error instanceof ReplayRefused) {
      io.err(`splitstream: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}
