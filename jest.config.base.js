// Shared jest config: ESM TypeScript through ts-jest (transpile only; `tsc -b` typechecks).
/** @param {string} dir */
export function jestConfig(dir, overrides = {}) {
  return {
    rootDir: dir,
    testEnvironment: "node",
    extensionsToTreatAsEsm: [".ts"],
    moduleNameMapper: { "^(\\.{1,2}/.*)\\.js$": "$1" },
    transform: {
      "^.+\\.ts$": [
        "ts-jest",
        {
          useESM: true,
          diagnostics: false,
          tsconfig: {
            module: "NodeNext",
            moduleResolution: "NodeNext",
            target: "ES2023",
            verbatimModuleSyntax: false,
            isolatedModules: true,
          },
        },
      ],
    },
    testMatch: ["<rootDir>/test/**/*.test.ts", "<rootDir>/src/**/*.test.ts"],
    testTimeout: 30_000,
    maxWorkers: 2,
    ...overrides,
  };
}
