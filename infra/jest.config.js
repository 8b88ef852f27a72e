module.exports = {
  ...require('../jest.preset'),
  // The fault suite is its own project (test/faults/jest.config.js): it must run alone, last.
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/faults/'],
};
