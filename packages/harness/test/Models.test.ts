import { NodeServices } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { ModelServer, type Script } from "@spec-orch/test-kit"
import { Effect, Layer } from "effect"
import { Models } from "../src/index.js"
import { envFor, leakedSecrets, loadConfig, modelsLayer } from "./utils/models.js"

/** Answers the probe: the forced tool when offered, else the JSON text; doubao's key is rejected. */
const probeScript: Script = (req) => {
  if (req.body?.model === "doubao-seed-2.0-code") return { error: 401, message: "authentication_error: invalid token" }
  const tool = req.tools.find((t) => t.name === "spec_orch_check")
  return tool !== undefined ? { tool: { name: tool.name, input: { ok: true } } } : { text: '{"ok": true}' }
}

const checkWith = (env: (url: string) => Record<string, string>) =>
  Effect.gen(function* () {
    const server = yield* ModelServer.scoped({ script: probeScript })
    const layer = modelsLayer(loadConfig("original-chain.toml"), env(server.url)).pipe(
      Layer.provide(NodeServices.layer)
    )
    return yield* Effect.flatMap(Effect.service(Models), (models) => models.check).pipe(Effect.provide(layer))
  })

describe("Models.check", () => {
  it.live("probes every configured model with a structured-output call and says why each failure failed", () =>
    Effect.gen(function* () {
      const checks = yield* checkWith((url) => envFor(url))
      assert.deepStrictEqual(
        checks.map((c) => [c.id, c.ok]),
        [
          ["minimax_reasoning", true],
          ["doubao_seed_code", false],
          ["gpt", true],
          ["[supervisor]", true],
          ["[supervisor] fallbacks[0]", true]
        ]
      )
      const doubao = checks[1]!
      assert.include(doubao.reason!, "HTTP 401")
      assert.strictEqual(
        doubao.reason!.split(" (HTTP")[0],
        "doubao_seed_code (doubao-seed-2.0-code): the key from $ANTHROPIC_AUTH_TOKEN was rejected"
      )
      assert.deepStrictEqual(leakedSecrets(JSON.stringify(checks)), [])
      const minimax = checks[0]!
      assert.deepStrictEqual(minimax.usedBy, ["planner", "acceptance_evaluator"])
      assert.isAbove(minimax.inputTokens, 0)
      assert.isNumber(minimax.latencyMs)
    })
  )

  it.live("reports a model whose key env var is empty without sending anything for it", () =>
    Effect.gen(function* () {
      const checks = yield* checkWith((url) => envFor(url, { MINIMAX_API_KEY: "" }))
      const minimax = checks.find((c) => c.id === "minimax_reasoning")!
      assert.isFalse(minimax.ok)
      assert.strictEqual(minimax.reason, "needs $MINIMAX_API_KEY (unset or empty)")
      assert.isUndefined(minimax.latencyMs)
    })
  )
})

describe("Models.roles", () => {
  it.effect("resolves each role in the original's order and reports roles without a model", () =>
    Effect.gen(function* () {
      const config = loadConfig(`
[models.fast]
model = "claude-haiku"
api_key_env = "FAST_KEY"

[planner]
model_ref = "fast"
`)
      const roles = yield* Effect.map(Effect.service(Models), (m) => m.roles).pipe(
        Effect.provide(modelsLayer(config, { FAST_KEY: "k-1234567890" }))
      )
      assert.deepStrictEqual(
        roles.map((r) => [r.role, r.plan?.name, r.problem?.reason._tag]),
        [
          ["planner", "model:fast", undefined],
          ["reviewer", undefined, "RoleNotConfigured"],
          ["supervisor", undefined, "RoleNotConfigured"],
          ["acceptance_evaluator", undefined, "RoleNotConfigured"]
        ]
      )
    })
  )
})
