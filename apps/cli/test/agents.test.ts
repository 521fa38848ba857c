import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { cli } from "./cli.js"

/** A project directory whose spec-orch.toml has this [builder] section. */
const project = (builder: string) => {
  const dir = mkdtempSync(join(tmpdir(), "cli-agents-"))
  writeFileSync(join(dir, "spec-orch.toml"), `[builder]\n${builder}\n`)
  return dir
}

describe("spec-orch agents check", () => {
  it.live("runs a trivial turn with the command adapter and reports it", () =>
    Effect.gen(function* () {
      const dir = project(`adapter = "command"\ncommand = ["sh", "-c", "cat > /dev/null; echo OK"]`)
      const r = yield* cli("--cwd", dir, "agents", "check")
      assert.strictEqual(r.code, 0, r.stderr)
      assert.match(r.stdout, /^command +\/\S+\/sh +- +ok: a trivial turn completed in \d+\.\d s$/m)
    })
  )

  it.live("exits 1 and shows the agent's own error when the turn fails", () =>
    Effect.gen(function* () {
      const dir = project(
        `adapter = "command"\ncommand = "echo '{\\"type\\":\\"error\\",\\"message\\":\\"no model configured\\"}'; exit 2"`
      )
      const r = yield* cli("--cwd", dir, "agents", "check", "--json")
      assert.strictEqual(r.code, 1)
      const out = JSON.parse(r.stdout)
      assert.strictEqual(out.ok, false)
      assert.deepStrictEqual(
        [out.agents[0].adapter, out.agents[0].exercised, out.agents[0].outcome, out.agents[0].reason],
        ["command", true, "failed", "no model configured"]
      )
    })
  )

  it.live("names an unknown adapter and the known ones", () =>
    Effect.gen(function* () {
      const dir = project(`adapter = "command"\ncommand = ["true"]`)
      const r = yield* cli("--cwd", dir, "agents", "check", "--agent", "acpx-claude")
      assert.strictEqual(r.code, 1)
      assert.include(r.stdout, `agent adapter "acpx-claude" is not a known agent adapter`)
      assert.include(r.stdout, "claude_code, codex, opencode, droid, acp, command")
    })
  )
})
