/** The fault table as Markdown: one row per scenario, with the definitions of its columns. */
import { writeFileSync } from 'node:fs';

export interface Row {
  scenario: string;
  restart: string;
  accepted: number;
  stored: number;
  lost: number;
  duplicated: number;
  writes: number;
  writesRefused: number;
  reads: number;
  readsFailed: number;
  downS: number;
  /** How long the restart itself took (the command, or the new process until ready). */
  restartS: number;
  /** Null when the system did not recover within the scenario's bound. */
  recoverS: number | null;
  /** Expectations this scenario holds, and those it broke ("" when it has none). */
  expected: string;
  broken: string[];
  notes: string[];
}

const seconds = (s: number | null) => (s === null ? 'not recovered' : s.toFixed(1));

export function writeReport(path: string, rows: Row[], run: { date: Date; commit: string; wallS: number }) {
  const table = rows.map((r) =>
    [
      r.scenario,
      r.restart,
      r.accepted,
      r.stored,
      r.lost,
      r.duplicated,
      `${r.writesRefused} / ${r.writes}`,
      `${r.readsFailed} / ${r.reads}`,
      seconds(r.downS),
      `${seconds(r.recoverS)} (restart ${r.restartS.toFixed(1)})`,
      r.broken.length > 0 ? `**broken: ${r.broken.join(', ')}**` : r.expected ? `held: ${r.expected}` : '—',
    ].join(' | '),
  );
  const notes = rows.filter((r) => r.notes.length > 0).map((r) => `- ${r.scenario}: ${r.notes.join('; ')}`);
  const text = `# Fault suite report

Written by \`infra/test/faults/faults.test.ts\` on every run (\`npm run test:faults -w infra\`, the last
step of \`npm test\`). Latest run: ${run.date.toISOString()}, commit ${run.commit}, ${run.wallS.toFixed(0)} s.

Setup: two ingest and two query instances behind the gateway and one writer, all real processes on
the suite's own topic, consumer group, tenant (one per scenario) and keys, against the real Kafka
broker and store. Through the gateway, without retries: 4 writers each sending one request every
200 ms (singles and batches of 10 alternately, numbered ids) and 2 readers each sending one every
200 ms (an accepted event by id, or the newest page). Per scenario: a healthy baseline (one event
end to end, then 3 s), the SIGKILL, the fault held for 6 s, the operator's restart, recovery, 2 s
more load, then a bounded wait until every accepted event is stored.

| fault (SIGKILL) | restart | accepted | stored | lost | duplicated | writes refused | reads failed | down s | recover s | expectations |
|---|---|---|---|---|---|---|---|---|---|---|
${table.map((line) => `| ${line} |`).join('\n')}

Columns:
- **accepted**: events answered 202 (batch events count one each).
- **stored**: accepted events found in the store, read on its primary by tenant and id after the wait.
- **lost**: accepted and never stored. **duplicated**: events stored more than once (same source and id).
- **writes refused**: write requests answered anything but 202, or not answered within 10 s, over the
  whole scenario (the fault is its only disturbance), out of all write requests.
- **reads failed**: reads answered 5xx or not answered within 10 s, out of all reads; a 404 is an
  answer (an accepted event not stored or replicated yet).
- **down s**: from the kill until the restart began (the deliberate hold).
- **recover s**: from the start of the restart until a new event was accepted and then served by a
  read carrying its token, through the gateway; in brackets, how long the restart itself took
  (\`infra.sh up\` returning, or the new service process answering /readyz).
- **expectations**: what the suite asserts for that fault (lost 0 and duplicated 0 everywhere; writes
  refused 0 for faults in query or the store; reads failed 0 for every fault but the query side's
  own: the replica side, one instance of two, and the whole write side, since the read path depends
  on neither Kafka, ingest, the writer nor the store's primary), and which of them broke.

${notes.length > 0 ? `Notes:\n${notes.join('\n')}\n` : ''}`;
  writeFileSync(path, text);
}
