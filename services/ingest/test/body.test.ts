import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { PayloadTooLargeError, UnsupportedMediaTypeError, ValidationError } from '@splitstream/shared';
import { assertMediaType, CONTENT_ENCODING_PATTERN, decodedBody, mediaTypeOf } from '../src/domain/body';

async function drain(stream: Readable): Promise<{ bytes: number; error?: unknown }> {
  let bytes = 0;
  return new Promise((resolve) => {
    stream.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
    });
    stream.on('end', () => resolve({ bytes }));
    stream.on('error', (error) => resolve({ bytes, error }));
  });
}

describe('request body decoding', () => {
  it('reads media types without parameters or case', () => {
    expect(mediaTypeOf('Application/CloudEvents+JSON; charset=utf-8')).toBe('application/cloudevents+json');
    expect(mediaTypeOf(undefined)).toBe('');
    expect(() => assertMediaType('text/plain', ['application/json'])).toThrow(UnsupportedMediaTypeError);
    expect(() => assertMediaType('application/json; charset=utf-8', ['application/json'])).not.toThrow();
  });

  // The header's documented pattern and the decoder must take exactly the same values.
  it.each([
    ['', true],
    ['identity', true],
    ['IDENTITY', true],
    ['gzip', true],
    ['GZip', true],
    ['x-gzip', true],
    ['X-GZIP', true],
    ['deflate', false],
    ['br', false],
    ['gzip, identity', false],
    ['gzi', false],
    ['x_gzip', false],
  ])('Content-Encoding %p: pattern and decoder agree (%p)', async (value, accepted) => {
    expect(new RegExp(CONTENT_ENCODING_PATTERN).test(value)).toBe(accepted);
    const decode = () => decodedBody(Readable.from([gzipSync('{}')]), value, 10);
    if (!accepted) {
      expect(decode).toThrow(UnsupportedMediaTypeError);
      return;
    }
    // Read to the end: an identity body is the gzip bytes as they are, a gzip one inflates to `{}`.
    const { error } = await drain(decode());
    expect(error).toBeUndefined();
  });

  it('passes identity bodies through and refuses unknown encodings', () => {
    const body = Readable.from([]);
    expect(decodedBody(body, undefined, 10)).toBe(body);
    expect(decodedBody(body, 'identity', 10)).toBe(body);
    expect(() => decodedBody(body, 'deflate', 10)).toThrow(UnsupportedMediaTypeError);
  });

  it('inflates gzip and reports the encoded length it read', async () => {
    const plain = Buffer.from(JSON.stringify({ hello: 'world'.repeat(100) }));
    const zipped = gzipSync(plain);
    const stream = decodedBody(Readable.from([zipped]), 'gzip', 1024 * 1024) as Readable & {
      receivedEncodedLength: number;
    };
    const { bytes, error } = await drain(stream);
    expect(error).toBeUndefined();
    expect(bytes).toBe(plain.length);
    expect(stream.receivedEncodedLength).toBe(zipped.length);
  });

  it('stops a gzip bomb at the limit: never more than the limit is inflated into the body', async () => {
    const limit = 1024 * 1024;
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024), { level: 9 });
    const { bytes, error } = await drain(decodedBody(Readable.from([bomb]), 'gzip', limit));
    expect(error).toBeInstanceOf(PayloadTooLargeError);
    expect(bytes).toBeLessThanOrEqual(limit);
  });

  it('fails invalid gzip with a 400', async () => {
    const { error } = await drain(decodedBody(Readable.from([Buffer.from('plain text')]), 'gzip', 1024));
    expect(error).toBeInstanceOf(ValidationError);
  });
});
