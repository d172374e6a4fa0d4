/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    // tsconfig's `isolatedModules: true` makes ts-jest transpile only (about 3x faster);
    // `npm run build` type-checks once.
    '^.+\\.tsx?$': ['ts-jest', {}],
  },
  // One temporary directory per run, checked and removed at the end (see test/global-setup.ts).
  globalSetup: '<rootDir>/test/global-setup.ts',
  globalTeardown: '<rootDir>/test/global-teardown.ts',
  setupFiles: ['<rootDir>/test/setup-env.ts'],
  setupFilesAfterEnv: ['aws-cdk-lib/testhelpers/jest-autoclean'],
  // The suite is CPU-bound (synths); jest's default leaves one core idle on a 2-core machine.
  maxWorkers: '100%',
  testTimeout: 60000,
};
