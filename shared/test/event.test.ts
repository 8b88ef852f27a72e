import { CloudEventSchema, cloudEventErrors } from '../src/event';

const valid = { specversion: '1.0', id: 'e-1', source: '/shop', type: 'order.created' };

describe('cloudEventErrors', () => {
  it('accepts a minimal event and extension attributes with scalar values', () => {
    expect(cloudEventErrors(valid)).toEqual([]);
    expect(
      cloudEventErrors({ ...valid, traceparent: 'x', partitionkey: 3, sampled: true, none: null }),
    ).toEqual([]);
    expect(cloudEventErrors(CloudEventSchema.examples?.[0])).toEqual([]);
  });

  it('names every faulty attribute once, under the given pointer', () => {
    const errors = cloudEventErrors({ specversion: '2.0', id: '', type: 5, time: 'yesterday' }, '/3');
    expect(errors.map((e) => e.field)).toEqual([
      '/3/source',
      '/3/specversion',
      '/3/id',
      '/3/type',
      '/3/time',
    ]);
    expect(errors[0]?.message).toMatch(/required/i);
  });

  it('rejects bad extension names and non-scalar extension values', () => {
    expect(cloudEventErrors({ ...valid, Bad_Name: 'x' })).toEqual([
      { field: '/Bad_Name', message: expect.stringMatching(/extension attribute name/) },
    ]);
    expect(cloudEventErrors({ ...valid, myext: { nested: true } })).toEqual([
      { field: '/myext', message: expect.stringMatching(/string, number, boolean or null/) },
    ]);
  });

  it('rejects what is not an object', () => {
    for (const value of [null, [], 'event', 42]) {
      expect(cloudEventErrors(value, '/0')).toEqual([
        { field: '/0', message: expect.stringMatching(/JSON object/) },
      ]);
    }
    expect(cloudEventErrors(null)[0]?.field).toBe('/');
  });
});
