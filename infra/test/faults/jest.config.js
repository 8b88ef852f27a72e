// The fault suite's own jest project: it kills the shared broker and store, so `npm test` runs it
// alone, after every other suite (infra/scripts/test.sh); the package's plain `jest` leaves it out.
const preset = require('../../../jest.preset');

module.exports = {
  ...preset,
  rootDir: '../..',
  roots: ['<rootDir>/test/faults'],
  // Scenarios share one system and run in order; each bounds itself (SCENARIO_TIMEOUT_MS).
  maxWorkers: 1,
  testTimeout: 120_000,
};
