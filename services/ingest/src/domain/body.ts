import { type Readable, Transform } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { PayloadTooLargeError, UnsupportedMediaTypeError, ValidationError } from '@splitstream/shared';
import type { FastifyRequest, RequestPayload } from 'fastify';

/** The media type of a Content-Type header, lower-cased, without parameters ('' when absent). */
export function mediaTypeOf(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

export function assertMediaType(contentType: string | undefined, accepted: readonly string[]): void {
  const mediaType = mediaTypeOf(contentType);
  if (!accepted.includes(mediaType)) {
    throw new UnsupportedMediaTypeError(
      `Content-Type ${mediaType || '(none)'} is not accepted here; send ${accepted.join(' or ')}`,
    );
  }
}

const GZIP = new Set(['gzip', 'x-gzip']);
const IDENTITY = new Set(['', 'identity']);

/**
 * The Content-Encoding values decodedBody takes, as the header's schema `pattern`: content codings
 * are case-insensitive (RFC 9110), so each letter is spelt both ways; empty means none.
 */
export const CONTENT_ENCODING_PATTERN = `^(?:${[...GZIP, 'identity']
  .map((name) => [...name].map((c) => (/[a-z]/.test(c) ? `[${c}${c.toUpperCase()}]` : c)).join(''))
  .join('|')})?$`;
export const CONTENT_ENCODING_DESCRIPTION =
  '`gzip` (or `x-gzip`) for a gzip-compressed body, bounded after inflation; `identity` or empty for none; ' +
  'any letter case. Anything else is 415';

/** A request body stream that reports the bytes it received on the wire, as Fastify's body reader expects. */
type EncodedStream = Transform & { receivedEncodedLength: number };

/**
 * Returns the body stream to parse: the request itself, or for `Content-Encoding: gzip` a stream
 * that inflates at most `maxInflatedBytes` and then fails with 413, so a gzip bomb costs at most
 * the limit in memory. Any other encoding is 415 (RFC 9110).
 */
export function decodedBody(
  payload: Readable,
  contentEncoding: string | undefined,
  maxInflatedBytes: number,
): Readable {
  const encoding = (contentEncoding ?? '').trim().toLowerCase();
  if (IDENTITY.has(encoding)) return payload;
  if (!GZIP.has(encoding)) {
    throw new UnsupportedMediaTypeError(
      `Content-Encoding ${encoding} is not supported; send gzip or no encoding`,
    );
  }
  const gunzip = createGunzip();
  let inflated = 0;
  const stop = (error: Error) => {
    payload.unpipe(gunzip);
    gunzip.destroy();
    // Drain and discard the rest of the upload so the connection can carry the 413/400 answer.
    payload.resume();
    out.destroy(error);
  };
  const out: EncodedStream = Object.assign(
    new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        inflated += chunk.length;
        if (inflated > maxInflatedBytes) {
          stop(new PayloadTooLargeError(`the body inflates to more than ${maxInflatedBytes} bytes`));
          return;
        }
        callback(null, chunk);
      },
    }),
    { receivedEncodedLength: 0 },
  );
  payload.on('data', (chunk: Buffer) => {
    out.receivedEncodedLength += chunk.length;
  });
  gunzip.on('error', (error) => stop(new ValidationError('the body is not valid gzip', { cause: error })));
  payload.pipe(gunzip).pipe(out);
  return out;
}

/**
 * preParsing hook of a route that takes a body: its media type must be one of `accepted` (415 before
 * the body is read), and it is read through decodedBody (Content-Encoding, bounded inflation).
 */
export const decodedBodyHook =
  (accepted: readonly string[], maxInflatedBytes: number) =>
  async (request: FastifyRequest, _reply: unknown, payload: RequestPayload): Promise<RequestPayload> => {
    assertMediaType(request.headers['content-type'], accepted);
    return decodedBody(payload, request.headers['content-encoding'], maxInflatedBytes);
  };
