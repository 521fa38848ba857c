import { assert, describe, it } from "@effect/vitest"
import { spawnSync } from "node:child_process"
import { cpSync, mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

// The bundled binary copied where `better-sqlite3` (the one native addon, kept outside the bundle)
// cannot be found, as when its prebuilt binary does not match the installed Node: a command that
// loads the state database or the run engine then fails; one that only reads does not load them.
const dist = mkdtempSync(join(tmpdir(), "lean-start-"))
cpSync(join(import.meta.dirname, "../dist"), dist, {
  recursive: true,
  filter: (source) => !/[\\/](dashboard|example)([\\/]|$)/.test(source)
})
const project = mkdtempSync(join(tmpdir(), "lean-start-project-"))
cpSync(join(import.meta.dirname, "../../../examples/hello-node"), project, { recursive: true })
const run = (...args: Array<string>) =>
  spawnSync(process.execPath, [join(dist, "spec-orch.cjs"), ...args], {
    encoding: "utf8",
    cwd: project,
    env: { ...process.env, SPEC_ORCH_COMPILE_CACHE: "off", NODE_PATH: "" }
  })

describe("reading commands load only what they read", () => {
  it("lists issues, checks the config and shows the gate policy without the state database", () => {
    const issues = run("issue", "list")
    assert.strictEqual(issues.status, 0, issues.stderr)
    assert.include(issues.stdout, "HELLO-1")
    for (const args of [["config", "check"], ["gate", "show-policy"], ["--help"]]) {
      const r = run(...args)
      assert.strictEqual(r.status, 0, `${args.join(" ")}: ${r.stderr}`)
    }
  })

  it("still needs the state database for status, and says which module is missing", () => {
    const r = run("status")
    assert.strictEqual(r.status, 1)
    assert.include(r.stderr, "better-sqlite3")
  })
})
