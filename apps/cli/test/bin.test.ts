import { assert, describe, it } from "@effect/vitest"
import { spawnSync } from "node:child_process"
import { cpSync, mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import pkg from "../package.json" with { type: "json" }

// The bundled binary (the CLI's tests run after its build).
const bin = join(import.meta.dirname, "../dist/main.js")
const project = mkdtempSync(join(tmpdir(), "bin-"))
cpSync(join(import.meta.dirname, "../../../examples/hello-node"), project, { recursive: true })
const run = (...args: Array<string>) => spawnSync(process.execPath, [bin, ...args], { encoding: "utf8", cwd: project })

describe("the spec-orch binary", () => {
  it("prints its version and exits 0, from the installed bin and the ES module alike", () => {
    const r = run("--version")
    assert.strictEqual(r.stdout, `spec-orch v${pkg.version}\n`)
    assert.strictEqual(r.status, 0)
    const installed = spawnSync(process.execPath, [join(import.meta.dirname, "..", pkg.bin["spec-orch"]), "--version"], { encoding: "utf8" })
    assert.strictEqual(installed.stdout, `spec-orch v${pkg.version}\n`)
    const help = spawnSync(process.execPath, [join(import.meta.dirname, "..", pkg.bin["spec-orch"]), "issue", "--help"], { encoding: "utf8" })
    assert.match(help.stdout, /Read issues from the configured source/)
  })

  it("sets the process exit code from the command: 0 ok, 1 failure, 2 usage", () => {
    assert.strictEqual(run("issue", "list").status, 0)
    const missing = run("issue", "show", "NOPE-1")
    assert.strictEqual(missing.status, 1)
    assert.match(missing.stderr, /^spec-orch: issue NOPE-1 not found/)
    assert.strictEqual(run("no-such-command").status, 2)
  })
})
