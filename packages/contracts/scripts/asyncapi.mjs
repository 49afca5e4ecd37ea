#!/usr/bin/env node
// Prints the AsyncAPI 3.0 document generated from the event catalog (build first: tsc -b), or
// writes it to the file named as the first argument:
//   node packages/contracts/scripts/asyncapi.mjs [out.json]
import { writeFileSync } from "node:fs";
import { asyncApiDocument } from "../dist/index.js";

const text = `${JSON.stringify(asyncApiDocument(), null, 2)}\n`;
const out = process.argv[2];
if (out) writeFileSync(out, text);
else process.stdout.write(text);
