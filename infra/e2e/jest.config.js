import { jestConfig } from "../../jest.config.base.js";
// One stack of child processes per file; files run one at a time so they do not fight for 2 cores.
export default jestConfig(import.meta.dirname, { testTimeout: 60_000, maxWorkers: 1 });
