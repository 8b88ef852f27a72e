import {
  decodeCursor,
  encodeCursor,
  type KeysetPosition,
  type Order,
  type Page,
  parseRange,
  type TimeRange,
} from '@splitstream/shared';
import { PAGE_LIMITS } from '../schemas/common';

interface PagingParameters {
  order?: Order | undefined;
  since?: string | undefined;
  until?: string | undefined;
  cursor?: string | undefined;
  limit?: number | undefined;
}

/** Which page a list request asks for: its order, time range, the position after its cursor and its size. */
export function pageRequested(
  query: PagingParameters,
  defaultOrder: Order,
): { order: Order; range: TimeRange; after: KeysetPosition | undefined; limit: number } {
  return {
    order: query.order ?? defaultOrder,
    range: parseRange(query, (name) => `querystring.${name}`),
    after: query.cursor !== undefined ? decodeCursor(query.cursor, 'querystring.cursor') : undefined,
    limit: query.limit ?? PAGE_LIMITS.default,
  };
}

/** The answer of a list route: the page's items and the cursor of the next page, if any. */
export function pageAnswer<T, I>(
  page: Page<T>,
  toItem: (doc: T) => I,
): { items: I[]; nextCursor: string | null } {
  return { items: page.docs.map(toItem), nextCursor: page.next ? encodeCursor(page.next) : null };
}
