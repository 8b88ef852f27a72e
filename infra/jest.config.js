module.exports = {
  ...require('../jest.preset'),
  // infra.test.ts stops and restarts the shared store endpoint: nothing else of this package may
  // run beside it (system.test.ts once lost its store mid-teardown).
  maxWorkers: 1,
  // The fault suite is its own project (test/faults/jest.config.js): it must run alone, last.
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/faults/'],
};
