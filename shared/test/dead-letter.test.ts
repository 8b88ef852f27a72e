import { DEAD_LETTER_HEADERS, DEAD_LETTER_REASONS, deadLetterId, deadLetterReason } from '../src';

describe('dead-letter contract', () => {
  it('identifies a dead letter by where it was read, and prefixes the reason with its code', () => {
    expect(deadLetterId('events', 2, '17')).toBe('events/2/17');
    expect(deadLetterReason(DEAD_LETTER_REASONS.tooLarge, 'value is 600000 bytes')).toBe(
      'too-large: value is 600000 bytes',
    );
  });

  it('names the headers added to a dead-lettered message', () => {
    expect(Object.values(DEAD_LETTER_HEADERS)).toEqual([
      'splitstream-dlq-reason',
      'splitstream-dlq-topic',
      'splitstream-dlq-partition',
      'splitstream-dlq-offset',
    ]);
  });
});
