/**
 * The original's evolution groups over proposals: `strategy` (scoper hints) end to end from the ledger
 * to what the planner would be told, `harness apply` refusing what is not a compliance rule, and the empty
 * states of `prompt`, `harness` and `skills` saying what to run.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { cpSync, mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { cli } from "./cli.js"
import { seedOutOfScopeRuns } from "./utils/seed-ledger.js"

const example = join(import.meta.dirname, "../../../examples/hello-node")

const project = () => {
  const dir = mkdtempSync(join(tmpdir(), "cli-groups-"))
  cpSync(example, dir, { recursive: true })
  return dir
}

const ok = (...args: Array<string>) =>
  Effect.map(cli(...args), (r) => {
    assert.strictEqual(r.code, 0, `${args.join(" ")}: ${r.stderr}`)
    return r.stdout
  })

describe("spec-orch strategy|harness|prompt|skills", () => {
  it.effect("strategy analyze proposes a scoper hint; once approved, status and inject-preview show it in use", () =>
    Effect.gen(function* () {
      const dir = project()
      yield* seedOutOfScopeRuns(dir, ["SON-1", "SON-2"])
      assert.include(yield* ok("--cwd", dir, "strategy", "status"), "No scoper hints")
      const hints = JSON.parse(yield* ok("--cwd", dir, "strategy", "analyze", "--json")) as Array<any>
      assert.strictEqual(hints.length, 1)
      const id = hints[0].proposal.id as string
      assert.strictEqual(hints[0].candidate.file, "src/routes.js")
      assert.include(yield* ok("--cwd", dir, "strategy", "status"), "None in use.")

      const mission = yield* cli("--cwd", dir, "mission", "create", "Greetings", "--id", "greetings")
      assert.strictEqual(mission.code, 0, mission.stderr)
      assert.include(yield* ok("--cwd", dir, "strategy", "inject-preview", "greetings"), "would be told nothing")

      yield* ok("--cwd", dir, "evolution", "validate", id, "--candidate", "9/10", "--baseline", "2/10", "--by", "ana")
      yield* ok("--cwd", dir, "evolution", "approve", id, "--by", "ana")
      assert.include(yield* ok("--cwd", dir, "strategy", "status"), `In use: ${id}.`)
      const preview = JSON.parse(
        yield* ok("--cwd", dir, "strategy", "inject-preview", "greetings", "--json")
      ) as Array<any>
      assert.deepStrictEqual(
        preview.map((l) => l.source),
        [`proposal ${id}`]
      )
      assert.include(preview[0].text, "list src/routes.js in that packet's files_in_scope")

      const wrong = yield* cli("--cwd", dir, "harness", "apply", id, "--by", "ana")
      assert.strictEqual(wrong.code, 2)
      assert.include(wrong.stderr, `${id} is a scoper-hint, not a compliance rule`)
    })
  )

  it.effect("say what to run when there is nothing yet, and prompt evolve needs a planner model", () =>
    Effect.gen(function* () {
      const dir = project()
      assert.include(yield* ok("--cwd", dir, "prompt", "status"), "`spec-orch prompt evolve`")
      assert.include(yield* ok("--cwd", dir, "skills", "list"), "`spec-orch skills mine`")
      assert.include(yield* ok("--cwd", dir, "harness", "validate"), "`spec-orch harness synthesize`")
      assert.include(yield* ok("--cwd", dir, "harness", "synthesize"), "Nothing back-tested")
      assert.include(yield* ok("--cwd", dir, "skills", "mine"), "No tool-call sequence")
      const evolve = yield* cli("--cwd", dir, "prompt", "evolve")
      assert.strictEqual(evolve.code, 1)
      assert.include(evolve.stderr, "prompt variants come from the planner's model, and it cannot be called")
    })
  )
})
