/**
 * `spec-orch` builds only the invoked command's tree under the root (src/Cli.ts, `treeFor`): that must
 * change nothing a user sees. Each invocation here runs in both trees and must print the same and exit
 * the same: every command's `--help`, usage errors inside a command, and real commands on the example.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { cpSync, mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { commandNames, invokedCommand } from "../src/Cli.js"
import { cliIn } from "./cli.js"

const project = mkdtempSync(join(tmpdir(), "command-tree-"))
cpSync(join(import.meta.dirname, "../../../examples/hello-node"), project, { recursive: true })

const same = (args: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const whole = yield* cliIn("whole", args)
    const invoked = yield* cliIn("invoked", args)
    assert.deepStrictEqual(invoked, whole, args.join(" "))
    return whole
  })

describe("the invoked command's tree", () => {
  it("is the command the arguments name, past the root's flags and their values", () => {
    assert.strictEqual(invokedCommand(["config", "check"]), "config")
    assert.strictEqual(invokedCommand(["--cwd", "gate", "config", "check"]), "config")
    assert.strictEqual(invokedCommand(["--verbose", "--config=x.toml", "status", "--json"]), "status")
    assert.strictEqual(invokedCommand(["--log-level", "debug", "issue", "list"]), "issue")
    // Nothing to pick: the whole tree answers (root help, a mistyped command, completions for every command).
    assert.strictEqual(invokedCommand(["--help"]), undefined)
    assert.strictEqual(invokedCommand(["confg", "check"]), undefined)
    assert.strictEqual(invokedCommand(["--completions", "bash"]), undefined)
    assert.strictEqual(invokedCommand(["config", "--completions=zsh"]), undefined)
    assert.strictEqual(invokedCommand(["--", "config"]), undefined)
  })

  it.effect("prints every command's help as the whole tree does", () =>
    Effect.gen(function* () {
      assert.isAtLeast(commandNames.length, 40)
      for (const name of commandNames) {
        const r = yield* same([name, "--help"])
        assert.strictEqual(r.code, 0, name)
        assert.include(r.stdout, name)
      }
    })
  )

  it.effect("fails on usage errors inside a command as the whole tree does", () =>
    Effect.gen(function* () {
      for (const args of [
        ["config", "chek"],
        ["config"],
        ["issue", "show"],
        ["status", "--bogus"],
        ["gate", "evaluate", "--evidence"],
        ["--cwd", project, "run"],
        ["--help", "gate"],
        ["gate", "show-policy", "--help", "--json"],
        ["config", "--completions", "bash"]
      ]) {
        const r = yield* same(args)
        assert.notStrictEqual(r.stdout + r.stderr, "", args.join(" "))
      }
    })
  )

  it.effect("runs commands on a project as the whole tree does", () =>
    Effect.gen(function* () {
      for (const args of [
        ["--cwd", project, "config", "check"],
        ["config", "check", "--cwd", project, "--json"],
        ["--cwd", project, "gate", "show-policy"],
        ["--cwd", project, "issue", "list", "--json"],
        ["--cwd", project, "status"],
        ["--cwd", project, "mission", "list"]
      ]) {
        const r = yield* same(args)
        assert.strictEqual(r.code, 0, `${args.join(" ")}: ${r.stderr}`)
      }
    })
  )
})
