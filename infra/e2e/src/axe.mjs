import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

/**
 * Runs axe-core (WCAG 2.x A/AA rules) in a playwright-core page and returns the violations of
 * impact "serious" or "critical", each as `rule: help (selectors)`, so a test can
 * `expect(await seriousViolations(page)).toEqual([])` and read what is wrong from the failure.
 */
export async function seriousViolations(page) {
  // Evaluated through the DevTools protocol, so a page's strict CSP (no inline script) does not block it.
  await page.evaluate(AXE_SOURCE);
  const violations = await page.evaluate(async () => {
    const result = await window.axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => n.target.join(" ")) }));
  });
  return violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id}: ${v.help} (${v.targets.slice(0, 5).join(", ")})`);
}
