/**
 * Release checks for every publishable package in the workspace: each has a
 * README, a LICENSE and a semantic version; `deno doc --lint` passes on its
 * exports; and `deno publish --dry-run` passes for the whole workspace.
 *
 * Run with `deno task check`, or alone:
 * `deno run --allow-read --allow-run --allow-env scripts/release_check.ts`.
 *
 * @module
 */
// deno-lint-ignore-file no-console -- a command-line script reports to its user
import { join, resolve } from "node:path";

interface MemberConfig {
  name?: string;
  version?: string;
  exports?: string | Record<string, string>;
  publish?: boolean | object;
}

const root = resolve(import.meta.dirname!, "..");
const workspace: string[] = JSON.parse(
  await Deno.readTextFile(join(root, "deno.json")),
).workspace;

let failures = 0;
function problem(text: string): void {
  failures++;
  console.error(`FAIL ${text}`);
}

async function run(args: string[], cwd: string): Promise<boolean> {
  const { code } = await new Deno.Command(Deno.execPath(), {
    args,
    cwd,
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  return code === 0;
}

for (const member of workspace) {
  const dir = join(root, member);
  const config: MemberConfig = JSON.parse(
    await Deno.readTextFile(join(dir, "deno.json")),
  );
  if (config.publish === false) continue;
  const name = config.name ?? member;

  if (!/^\d+\.\d+\.\d+(-[\w.]+)?$/.test(config.version ?? "")) {
    problem(`${name}: version "${config.version}" is not a semantic version`);
  }
  for (const file of ["README.md", "LICENSE"]) {
    try {
      await Deno.stat(join(dir, file));
    } catch {
      problem(`${name}: ${file} is missing`);
    }
  }
  const exports = typeof config.exports === "string"
    ? [config.exports]
    : Object.values(config.exports ?? {});
  if (exports.length === 0) problem(`${name}: no exports`);
  console.log(`deno doc --lint ${name}`);
  if (!await run(["doc", "--lint", ...exports], dir)) {
    problem(`${name}: deno doc --lint found problems`);
  }
}

console.log("deno publish --dry-run (every package)");
if (!await run(["publish", "--dry-run", "--allow-dirty"], root)) {
  problem("deno publish --dry-run failed");
}

if (failures > 0) {
  console.error(`${failures} release check(s) failed`);
  Deno.exit(1);
}
console.log("Release checks passed");
