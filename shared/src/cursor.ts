import { Type } from '@sinclair/typebox';
import { ValidationError } from './errors';

/**
 * A keyset position: the sort key (time, _id) of the last item of a page. The list routes of
 * query (events, dead letters) and ingest's dead-letter replay page by it.
 */
export interface KeysetPosition {
  time: Date;
  id: string;
}

/*
 * Text form: `<milliseconds since 1970, may be negative>.<base64url of the id's UTF-8>`. Any value of
 * that form is a position (a forged one only moves where the page starts, within the caller's own
 * filters and tenant), so the pattern below says exactly which values are accepted. 15 digits keep
 * every value inside JavaScript's date range (±8.64e15 ms).
 */
const CURSOR = /^(-?(?:0|[1-9][0-9]{0,14}))\.([A-Za-z0-9_-]*)$/;
export const CURSOR_PATTERN = CURSOR.source;
/**
 * An event's _id holds its tenant, source (up to 2048 characters) and id, up to ~9 KiB of UTF-8:
 * base64url makes that 12 KiB.
 */
export const CURSOR_MAX_LENGTH = 16 * 1024;

export function encodeCursor(position: KeysetPosition): string {
  return `${position.time.getTime()}.${Buffer.from(position.id, 'utf8').toString('base64url')}`;
}

/** The position of `value`, or a 400 naming `field` (e.g. `querystring.cursor`, `/cursor`). */
export function decodeCursor(value: string, field: string): KeysetPosition {
  const match = value.length <= CURSOR_MAX_LENGTH ? CURSOR.exec(value) : null;
  if (!match) {
    const message = 'is not a cursor (nextCursor of a previous page)';
    throw new ValidationError(`${field} ${message}`, { errors: [{ field, message }] });
  }
  return {
    time: new Date(Number(match[1])),
    id: Buffer.from(match[2] as string, 'base64url').toString('utf8'),
  };
}

/** The `cursor` parameter or body field: the same rule validates and documents it. */
export function cursorSchema(description: string) {
  return Type.String({
    maxLength: CURSOR_MAX_LENGTH,
    pattern: CURSOR_PATTERN,
    description: `${description}. Form: \`<milliseconds since 1970>.<base64url>\` (a position: the page starts after it)`,
    examples: [encodeCursor({ time: new Date('2026-11-26T10:00:00Z'), id: 'events/3/1041' })],
  });
}
