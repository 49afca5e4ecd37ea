// The `pg` driver for the e2e suite's own direct checks (row counts), taken from service-kit's
// dependencies so that this package needs no extra install.
import { createRequire } from "node:module";
import path from "node:path";
import { root } from "./stack.mjs";

const require = createRequire(path.join(root, "packages/service-kit/package.json"));
/** pg.Client */
export const PgClient = require("pg").Client;
