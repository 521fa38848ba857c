/**
 * `--cwd` as a user mistypes it: a directory that is not there (or a file) is not an empty project. Every
 * command stops before it reads or writes anything, naming the path; before, reading commands answered
 * for an empty project and `run` and `init` created the directory.
 */
import { assert, describe, it } from "@effect/vitest"
import { existsSync, readdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { makeProject } from "./utils/project.js"

describe("spec-orch --cwd", () => {
  it("a directory that is not there, or a file, stops every command with the path, and nothing is created", () => {
    const p = makeProject()
    p.issue("CW-1", { builder_prompt: "WRITE a.txt a" })
    const missing = join(p.root, "no-such-dir")
    const file = join(p.root, "a-file")
    writeFileSync(file, "not a directory\n")
    const before = readdirSync(p.root).sort()
    const commands = [
      ["status"],
      ["config", "check"],
      ["issue", "list"],
      ["gate", "evaluate", "CW-1"],
      ["run", "CW-1", "--auto-approve"],
      ["init"],
      ["doctor"]
    ]
    for (const [cwd, says] of [
      [missing, `project directory not found: ${missing} (check --cwd)`],
      [file, `project directory not found: ${file} (it is not a directory: check --cwd)`]
    ] as const) {
      for (const args of commands) {
        const r = p.cli("--cwd", cwd, ...args)
        assert.strictEqual(r.status, 1, `${args.join(" ")}: ${r.stdout}${r.stderr}`)
        // config check lists it as the problem it found, like any other.
        assert.include(r.stdout + r.stderr, says, args.join(" "))
      }
    }
    assert.isFalse(existsSync(missing), "a command created the directory")
    assert.deepStrictEqual(readdirSync(p.root).sort(), before)
  })
})
