#!/usr/bin/env node
// infra/README.md shows the nginx configuration the end-to-end test runs: the whole template,
// between two markers, written here from the file itself (a test fails when they differ).
//   node infra/nginx/sync-readme.mjs          rewrite the block in infra/README.md
//   node infra/nginx/sync-readme.mjs --check  exit 1 when the block is stale
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { TEMPLATE_PATH } from "./render.mjs";

export const README_PATH = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "README.md");
const BEGIN = "<!-- BEGIN infra/nginx/authplane.conf.template (written by node infra/nginx/sync-readme.mjs) -->";
const END = "<!-- END infra/nginx/authplane.conf.template -->";

/** `readme` with the block between the markers replaced by `template` in an nginx code fence. */
export function readmeWithTemplate(readme = readFileSync(README_PATH, "utf8"), template = readFileSync(TEMPLATE_PATH, "utf8")) {
  const start = readme.indexOf(BEGIN);
  const end = readme.indexOf(END);
  if (start < 0 || end < start) throw new Error(`${README_PATH} has no ${BEGIN} … ${END} block`);
  return `${readme.slice(0, start + BEGIN.length)}\n\n\`\`\`nginx\n${template.trimEnd()}\n\`\`\`\n\n${readme.slice(end)}`;
}

const isMain = process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const current = readFileSync(README_PATH, "utf8");
  const wanted = readmeWithTemplate(current);
  if (process.argv.includes("--check")) {
    if (current !== wanted) {
      console.error("infra/README.md shows an outdated nginx configuration: run node infra/nginx/sync-readme.mjs");
      process.exit(1);
    }
  } else if (current !== wanted) writeFileSync(README_PATH, wanted);
}
