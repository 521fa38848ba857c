/**
 * `spec-orch evolution run --prompt-variants` against the scripted model server (Anthropic Messages on
 * 127.0.0.1): the recent failed runs reach the planner's model fenced as data and redacted, its usable
 * variants become `prompt-variant` proposals that only a person may approve after validation, and which
 * model answered is in the proposal's history. Without the flag no model is asked.
 */
import { assert, describe, it } from "@effect/vitest"
import { ModelServer, type Script } from "@spec-orch/test-kit"
import { ConfigProvider, Effect } from "effect"
import { appendFileSync, cpSync, mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { cli } from "./cli.js"
import { modelChainToml } from "./utils/model-config.js"
import { seedLedger } from "./utils/seed-ledger.js"

const example = join(import.meta.dirname, "../../../examples/hello-node")
const KEY = "k-evolver-0123456789abcdef"

const MODELS = modelChainToml("TEST_EVOLVER_KEY", "TEST_EVOLVER_BASE")

const GOOD =
  "Before you finish, add a line to CHANGELOG.md under Unreleased that says what you changed; the changelog check fails without it."

/** Answers with one usable variant and one too short to use. */
const evolver: Script = (req) => {
  const answer = {
    variants: [
      { instruction: GOOD, addresses: "the changelog step failing in every run" },
      { instruction: "Be careful.", addresses: "everything" }
    ]
  }
  const tool = req.tools[0]
  return tool !== undefined ? { tool: { name: tool.name, input: answer } } : { text: JSON.stringify(answer) }
}

const project = (withModels = true) => {
  const dir = mkdtempSync(join(tmpdir(), "cli-evolution-prompt-"))
  cpSync(example, dir, { recursive: true })
  if (withModels) appendFileSync(join(dir, "spec-orch.toml"), MODELS)
  return dir
}

/** `n` runs of different issues whose changelog step failed; the output quotes the model key. */
const seedFailures = (dir: string, n: number) =>
  seedLedger(
    dir,
    Array.from({ length: n }, (_, i) => ({
      issueId: `SON-${i + 1}`,
      runId: `SON-${i + 1}-r1`,
      failed: { verification: "verification step changelog failed" },
      failedSteps: { changelog: ["node scripts/changelog-check.mjs", `CHANGELOG.md has no entry (token ${KEY})`] }
    }))
  )

const cliWithEnv = (env: Record<string, string>, ...args: Array<string>) =>
  cli(...args).pipe(
    Effect.provide(
      ConfigProvider.layer(ConfigProvider.fromEnv({ env: { ...(process.env as Record<string, string>), ...env } }))
    )
  )

describe("spec-orch evolution run --prompt-variants", () => {
  it.live(
    "asks the planner's model once with the failed runs fenced and redacted; a usable variant is proposed, attributed, and needs validation and a person",
    () =>
      Effect.gen(function* () {
        const server = yield* ModelServer.scoped({ script: evolver })
        const dir = project()
        yield* seedFailures(dir, 3)
        const env = { TEST_EVOLVER_KEY: KEY, TEST_EVOLVER_BASE: server.url }

        const plain = yield* cliWithEnv(env, "--cwd", dir, "evolution", "run", "--json")
        assert.strictEqual(plain.code, 0, plain.stderr)
        assert.strictEqual(server.requests.length, 0, "no model is asked without --prompt-variants")

        const r = yield* cliWithEnv(env, "--cwd", dir, "evolution", "run", "--prompt-variants", "--json")
        assert.strictEqual(r.code, 0, r.stderr)
        assert.strictEqual(server.requests.length, 1)
        const asked = server.requests[0]!.lastUserText
        assert.include(asked, '<untrusted-data source="failed runs">')
        assert.include(asked, "verification step changelog (node scripts/changelog-check.mjs) failed")
        assert.notInclude(asked, KEY, "the model never sees a secret")
        const variants = (JSON.parse(r.stdout) as Array<any>).filter((p) => p.evolver === "prompt-variant")
        assert.deepStrictEqual(
          variants.map((p) => [p.kind, p.state, p.content]),
          [["prompt-variant", "proposed", GOOD]],
          "the too-short variant is dropped"
        )
        const id = variants[0].id as string
        assert.deepStrictEqual(variants[0].sources.runIds, ["SON-1-r1", "SON-2-r1", "SON-3-r1"])
        assert.include(variants[0].evidence.answeredBy, "model-server-model")

        const shown = JSON.parse((yield* cliWithEnv(env, "--cwd", dir, "evolution", "show", id, "--json")).stdout)
        assert.deepStrictEqual(shown.history[0].actor, { type: "system", id: "evolver:prompt-variant" })
        assert.include(shown.history[0].why, "model-server-model")

        const early = yield* cliWithEnv(env, "--cwd", dir, "evolution", "approve", id, "--by", "ana")
        assert.strictEqual(early.code, 1, "a proposed variant cannot be approved before validation")
        const human = yield* cliWithEnv(env, "--cwd", dir, "evolution", "run", "--prompt-variants", "--json")
        assert.strictEqual(human.code, 0, human.stderr)
        assert.strictEqual(
          (JSON.parse(human.stdout) as Array<any>).filter((p) => p.evolver === "prompt-variant")[0].id,
          id,
          "the same variant again is the same proposal"
        )
      })
  )

  it.live("does not ask the model with fewer than three failed runs, and says so", () =>
    Effect.gen(function* () {
      const server = yield* ModelServer.scoped({ script: evolver })
      const dir = project()
      yield* seedFailures(dir, 2)
      const r = yield* cliWithEnv(
        { TEST_EVOLVER_KEY: KEY, TEST_EVOLVER_BASE: server.url },
        "--cwd",
        dir,
        "evolution",
        "run",
        "--prompt-variants"
      )
      assert.strictEqual(r.code, 0, r.stderr)
      assert.strictEqual(server.requests.length, 0)
      assert.include(r.stdout, "prompt variants: the model was not asked: 2 failed runs recorded, at least 3 needed")
    })
  )

  it.effect("without a planner model, fails before anything is proposed and says where to configure one", () =>
    Effect.gen(function* () {
      const dir = project(false)
      yield* seedFailures(dir, 3)
      const r = yield* cli("--cwd", dir, "evolution", "run", "--prompt-variants")
      assert.strictEqual(r.code, 1, r.stdout)
      assert.match(
        r.stderr,
        /prompt variants come from the planner's model, and it cannot be called: .*\[llm\] default_model_chain/
      )
      const listed = yield* cli("--cwd", dir, "evolution", "proposals", "--json")
      assert.deepStrictEqual(
        (JSON.parse(listed.stdout) as Array<any>).filter((p) => p.kind === "prompt-variant"),
        []
      )
    })
  )
})
