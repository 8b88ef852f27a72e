/** Kafka topics the bootstrap creates and the services default to. */
export const TOPICS = Object.freeze({
  events: { name: 'events', partitions: 6 },
  deadLetter: { name: 'events.deadletter', partitions: 3 },
});
