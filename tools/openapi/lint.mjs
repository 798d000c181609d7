// Runs Redocly's linter with its recommended rules (redocly.yaml) and fails on
// any finding, warnings included: the committed document must have none.
import { execFileSync } from "node:child_process";

const file = process.argv[2];
let output;
try {
  output = execFileSync(
    "node_modules/.bin/redocly",
    ["lint", "--config", "redocly.yaml", "--format", "json", file],
    { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] },
  );
} catch (failed) {
  output = failed.stdout; // redocly exits 1 when it finds errors
}
const report = JSON.parse(output);
const { errors, warnings } = report.totals;
for (const p of report.problems) {
  console.error(`${p.severity} ${p.ruleId}: ${p.message} at ${p.location?.[0]?.pointer}`);
}
console.log(`${file}: redocly recommended, ${errors} errors, ${warnings} warnings`);
process.exit(errors + warnings === 0 ? 0 : 1);
