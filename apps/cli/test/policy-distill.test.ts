/**
 * `spec-orch policy candidates|distill` in-process against the scripted model server, over a seeded ledger:
 * an answer that is not exactly one sh script is refused and nothing is proposed; without a planner model
 * nothing is asked and the error says where to configure one; bad flags are usage errors.
 */
import { assert, describe, it } from "@effect/vitest"
import { ModelServer, type Script } from "@spec-orch/test-kit"
import { ConfigProvider, Effect } from "effect"
import { appendFileSync, cpSync, mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { cli } from "./cli.js"
import { modelChainToml } from "./utils/model-config.js"
import { seedLedger } from "./utils/seed-ledger.js"

const example = join(import.meta.dirname, "../../../examples/hello-node")

/** Three passing runs of issues labelled `docs`. */
const project = (withModels: boolean) =>
  Effect.gen(function* () {
    const dir = mkdtempSync(join(tmpdir(), "cli-policy-"))
    cpSync(example, dir, { recursive: true })
    if (withModels) appendFileSync(join(dir, "spec-orch.toml"), modelChainToml("TEST_POLICY_KEY", "TEST_POLICY_BASE"))
    for (const id of ["DOC-1", "DOC-2", "DOC-3"])
      writeFileSync(
        join(dir, "fixtures/issues", `${id}.json`),
        JSON.stringify({ issue_id: id, title: `Docs ${id}`, summary: "s", builder_prompt: "b", labels: ["docs"] })
      )
    yield* seedLedger(
      dir,
      ["DOC-1", "DOC-2", "DOC-3"].map((id) => ({ issueId: id, runId: `${id}-r1` }))
    )
    return dir
  })

const cliWithEnv = (env: Record<string, string>, ...args: Array<string>) =>
  cli(...args).pipe(
    Effect.provide(
      ConfigProvider.layer(ConfigProvider.fromEnv({ env: { ...(process.env as Record<string, string>), ...env } }))
    )
  )

/** Two scripts: a policy is exactly one. */
const twoScripts: Script = () => ({ text: "```sh\necho a > a.txt\n```\nor\n```sh\necho b > b.txt\n```\n" })

describe("spec-orch policy distill", () => {
  it.live("refuses an answer that is not exactly one sh script, lists why, and proposes nothing", () =>
    Effect.gen(function* () {
      const server = yield* ModelServer.scoped({ script: twoScripts })
      const dir = yield* project(true)
      const env = { TEST_POLICY_KEY: "k-policy-0123456789abcdef", TEST_POLICY_BASE: server.url }
      const listed = yield* cliWithEnv(env, "--cwd", dir, "policy", "candidates", "--json")
      assert.deepStrictEqual(
        (JSON.parse(listed.stdout) as Array<any>).map((c) => c.key),
        ["docs"]
      )
      const r = yield* cliWithEnv(env, "--cwd", dir, "policy", "distill", "docs")
      assert.strictEqual(r.code, 1, r.stderr)
      assert.strictEqual(server.requests.length, 1)
      assert.include(r.stdout, "was refused, nothing was proposed: the answer has 2 fenced code blocks")
      const policies = yield* cliWithEnv(env, "--cwd", dir, "policy", "list", "--json")
      assert.deepStrictEqual(JSON.parse(policies.stdout), [])
    })
  )

  it.effect("without a planner model, asks nothing and says where to configure one", () =>
    Effect.gen(function* () {
      const dir = yield* project(false)
      const r = yield* cli("--cwd", dir, "policy", "distill", "docs")
      assert.strictEqual(r.code, 1, r.stdout)
      assert.match(
        r.stderr,
        /policies come from the planner's model, and it cannot be called: .*\[llm\] default_model_chain/
      )
    })
  )

  it.effect("a --min below 2 is a usage error", () =>
    Effect.gen(function* () {
      const dir = yield* project(false)
      const r = yield* cli("--cwd", dir, "policy", "candidates", "--min", "1")
      assert.strictEqual(r.code, 2)
      assert.include(r.stderr, "--min: expected 2 or more, got 1")
    })
  )
})
