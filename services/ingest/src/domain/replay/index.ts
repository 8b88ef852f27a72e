// Dead-letter replay: request (the validated body as a selection), plan (one record as the message a
// POST would have produced, or why not), execute (select, plan, send in order, mark).
export * from './execute';
export * from './plan';
export * from './request';
