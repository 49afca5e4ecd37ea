/** infra/README.md shows the nginx configuration the edge test runs, not a copy that can drift. */
import { readFileSync } from "node:fs";
import { expect, test } from "@jest/globals";
import { README_PATH, readmeWithTemplate } from "../../nginx/sync-readme.mjs";
import { renderTemplate, TEMPLATE_PATH, templateVariables } from "../../nginx/render.mjs";

test("infra/README.md contains infra/nginx/authplane.conf.template verbatim (rewrite: node infra/nginx/sync-readme.mjs)", () => {
  const readme = readFileSync(README_PATH, "utf8");
  expect(readme).toContain(`\`\`\`nginx\n${readFileSync(TEMPLATE_PATH, "utf8").trimEnd()}\n\`\`\``);
  expect(readmeWithTemplate(readme)).toBe(readme);
});

test("docker-compose.yml gives nginx the template and a value for every variable it uses", () => {
  const compose = readFileSync(new URL("../../../docker-compose.yml", import.meta.url), "utf8");
  expect(compose).toContain("./infra/nginx/authplane.conf.template:/etc/nginx/templates/default.conf.template:ro");
  const nginx = compose.slice(compose.indexOf("\n  nginx:\n"), compose.indexOf("\n  example-api:\n"));
  for (const name of templateVariables()) expect([name, nginx.includes(`      ${name}: `)]).toEqual([name, true]);
});

test("rendering names every variable left without a value", () => {
  expect(() => renderTemplate({ EDGE_LISTEN: "8080" })).toThrow(
    /ADMIN_KEY_UPSTREAM, CONSUMER_AUTH_UPSTREAM, OTP_DELIVERY_UPSTREAM, PROTECTED_API_UPSTREAM, WEBAUTHN_CREDENTIAL_UPSTREAM/,
  );
});
