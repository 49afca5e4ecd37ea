#!/usr/bin/env node
// Renders authplane.conf.template the way the official nginx image does at start
// (docker-entrypoint.d/20-envsubst-on-templates.sh: envsubst of the defined variables), for nginx
// outside a container and for the end-to-end test, which runs exactly this output.
//   node infra/nginx/render.mjs > /etc/nginx/conf.d/authplane.conf   (variables from the environment)
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const TEMPLATE_PATH = path.join(path.dirname(fileURLToPath(import.meta.url)), "authplane.conf.template");

/** Variables with a sensible default; the listen address and the upstreams have none. */
const TEMPLATE_DEFAULTS = Object.freeze({
  EDGE_TRUSTED_PROXY: "unix:",
  EDGE_RATE: "50r/s",
  EDGE_BURST: "100",
  EDGE_OTP_RATE: "30r/m",
  EDGE_OTP_BURST: "20",
  EDGE_UPSTREAM_TIMEOUT: "30s",
  EDGE_ACCESS_LOG: "/dev/stdout",
});

/** Every `${NAME}` the template uses (nginx's own variables are lower case and never braced). */
export function templateVariables(text = readFileSync(TEMPLATE_PATH, "utf8")) {
  return [...new Set([...text.matchAll(/\$\{([A-Z][A-Z0-9_]*)\}/g)].map((m) => m[1]))].sort();
}

/**
 * The template with every `${NAME}` replaced by `vars[NAME]` (or its default). Throws naming the
 * variables that have no value: envsubst would leave them in place and nginx would refuse the file.
 */
export function renderTemplate(vars, text = readFileSync(TEMPLATE_PATH, "utf8")) {
  const values = { ...TEMPLATE_DEFAULTS, ...Object.fromEntries(Object.entries(vars).filter(([, v]) => v !== undefined && v !== "")) };
  const missing = templateVariables(text).filter((name) => values[name] === undefined);
  if (missing.length) throw new Error(`nginx template: no value for ${missing.join(", ")}`);
  return text.replace(/\$\{([A-Z][A-Z0-9_]*)\}/g, (_, name) => values[name]);
}

const isMain = process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  try {
    process.stdout.write(renderTemplate(process.env));
  } catch (err) {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  }
}
