import { assert, describe, it } from "@effect/vitest"
import { ModelServer, type Script } from "@spec-orch/test-kit"
import { ConfigProvider, Effect } from "effect"
import { appendFileSync, cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { cli } from "./cli.js"

const example = join(import.meta.dirname, "../../../examples/hello-node")

const MODELS_TOML = `
[llm]
default_model_chain = "main"

[models.local]
model = "model-server-model"
api_type = "anthropic"
api_key_env = "TEST_MODEL_KEY"
api_base_env = "TEST_MODEL_BASE"
timeout_seconds = 5
input_usd_per_mtok = 1
output_usd_per_mtok = 2

[models.backup]
model = "gpt-5.5"
api_type = "openai"
api_key_env = "TEST_BACKUP_KEY"
api_base_env = "TEST_MODEL_BASE"

[model_chains.main]
primary = "local"
fallbacks = ["backup"]
`

/** The example project with the models above appended to its spec-orch.toml. */
const project = () => {
  const dir = mkdtempSync(join(tmpdir(), "cli-models-"))
  cpSync(example, dir, { recursive: true })
  appendFileSync(join(dir, "spec-orch.toml"), MODELS_TOML)
  return dir
}

/** Runs the CLI with exactly `env` added to the process environment (what the models read). */
const cliWithEnv = (env: Record<string, string>, ...args: Array<string>) =>
  cli(...args).pipe(
    Effect.provide(
      ConfigProvider.layer(ConfigProvider.fromEnv({ env: { ...(process.env as Record<string, string>), ...env } }))
    )
  )

const probe: Script = (req) => {
  const tool = req.tools[0]
  return tool !== undefined ? { tool: { name: tool.name, input: { ok: true } } } : { text: '{"ok":true}' }
}

describe("spec-orch models check", () => {
  it.live("prints one line per model, names the missing env var, and exits 1 when a model fails", () =>
    Effect.gen(function* () {
      const server = yield* ModelServer.scoped({ script: probe })
      const dir = project()
      const r = yield* cliWithEnv(
        { TEST_MODEL_KEY: "sk-cli-0123456789-SECRET", TEST_MODEL_BASE: server.url },
        "--cwd",
        dir,
        "models",
        "check"
      )
      assert.strictEqual(r.code, 1, r.stderr)
      // The probe's cost comes from local's prices (1 and 2 USD per million tokens) and the server's 100 + 20 tokens.
      assert.match(r.stdout, /^local\s+anthropic\s+model-server-model\s+ok\s+\d+ ms\s+120 tok, \$0\.0001$/m)
      assert.match(
        r.stdout,
        /^backup\s+openai_chat\s+gpt-5\.5\s+failed\s+—\s+—\s+needs \$TEST_BACKUP_KEY \(unset or empty\)$/m
      )
      assert.match(r.stdout, /^planner: chain:main \(\[llm\] default_model_chain\): local → backup$/m)
      assert.match(r.stdout, /^1 of 2 models failed$/m)
      assert.notInclude(r.stdout + r.stderr, "sk-cli-0123456789-SECRET")
      assert.strictEqual(server.requests[0]!.headers["x-api-key"], "sk-cli-0123456789-SECRET")
    })
  )

  it.live("reports JSON with --json and exits 0 when every model answers", () =>
    Effect.gen(function* () {
      const server = yield* ModelServer.scoped({ script: probe })
      const dir = project()
      const r = yield* cliWithEnv(
        { TEST_MODEL_KEY: "k-1", TEST_BACKUP_KEY: "k-2", TEST_MODEL_BASE: server.url },
        "--cwd",
        dir,
        "models",
        "check",
        "--json"
      )
      assert.strictEqual(r.code, 0, r.stderr)
      const out = JSON.parse(r.stdout)
      assert.isTrue(out.ok)
      assert.deepStrictEqual(
        out.models.map((m: any) => [m.id, m.ok]),
        [
          ["local", true],
          ["backup", true]
        ]
      )
      assert.deepStrictEqual(
        out.models.map((m: any) => [m.id, m.inputTokens, m.outputTokens]),
        [
          ["local", 100, 20],
          ["backup", 100, 20]
        ]
      )
      assert.closeTo(out.models[0].costUsd, (100 * 1 + 20 * 2) / 1_000_000, 1e-12)
      assert.isNull(out.models[1].costUsd, "backup has no prices: its cost is unknown, not 0")
      assert.deepStrictEqual(out.roles[0], {
        role: "planner",
        chain: "chain:main",
        source: "llm.default_model_chain",
        models: ["local", "backup"],
        usable: ["local", "backup"]
      })
      assert.deepStrictEqual(server.requests.map((q) => q.path).sort(), ["/chat/completions", "/v1/messages"])
    })
  )
})

const SPEC =
  "# Greetings\n\n## Intent\n\nGreet in French.\n\n## Acceptance Criteria\n\n- `greet` answers in French when asked\n\n## French greeting\n\nAdd it to `src/greet.js`.\n"

describe("spec-orch plan with a planner model", () => {
  it.live("plans with the [llm] default chain when its model has a key, and names the chain in plan.json", () =>
    Effect.gen(function* () {
      const server = yield* ModelServer.scoped({
        script: (req) =>
          req.tools.some((t) => t.name === "plan")
            ? {
                tool: {
                  name: "plan",
                  input: {
                    waves: [
                      {
                        wave_number: 0,
                        description: "French",
                        work_packets: [
                          {
                            packet_id: "french-greeting",
                            title: "Add a French greeting",
                            spec_section: "French greeting",
                            run_class: "feature",
                            files_in_scope: ["src/greet.js"],
                            files_out_of_scope: [],
                            depends_on: [],
                            acceptance_criteria: ["`greet` answers in French when asked"],
                            builder_prompt: "Add a French greeting to src/greet.js."
                          }
                        ]
                      }
                    ]
                  }
                },
                usage: { input: 500, output: 100 }
              }
            : { error: 400, message: "expected the plan tool" }
      })
      const dir = project()
      const env = { TEST_MODEL_KEY: "k-1", TEST_MODEL_BASE: server.url }
      const created = yield* cliWithEnv(env, "--cwd", dir, "mission", "create", "Greetings", "--id", "greetings")
      assert.strictEqual(created.code, 0, created.stderr)
      writeFileSync(join(dir, "docs/specs/greetings/spec.md"), SPEC)
      const r = yield* cliWithEnv(env, "--cwd", dir, "plan", "greetings")
      assert.strictEqual(r.code, 0, r.stderr)
      assert.notMatch(r.stderr, /offline planner/)
      const plan = JSON.parse(readFileSync(join(dir, "docs/specs/greetings/plan.json"), "utf8"))
      assert.strictEqual(plan.planner, "chain:main")
      assert.strictEqual(server.requests.length, 1)
      assert.strictEqual(server.requests[0]!.body.model, "model-server-model")
    })
  )
})
