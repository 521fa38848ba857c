import { assert, describe, it } from "@effect/vitest"
import { summarizeModelCalls } from "@spec-orch/contract"
import { Result, Schema } from "effect"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { evaluate, loadGatePolicy, renderExplain, ReportJson, reportJson } from "../src/index.js"
import { goodBundle } from "./utils/evidence.js"

const policy = Result.getOrThrow(
  loadGatePolicy(
    readFileSync(join(import.meta.dirname, "fixtures", "original.gate.policy.yaml"), "utf8"),
    "gate.policy.yaml"
  )
)
const calls = summarizeModelCalls([
  { role: "reviewer", model: "judge", ok: false, inputTokens: 0, outputTokens: 0, latencyMs: 900 },
  { role: "reviewer", model: "judge", ok: true, inputTokens: 12000, outputTokens: 800, usd: 0.048, latencyMs: 2100 }
])!

describe("the cost of a run's model calls in the reports", () => {
  it("report.json has the modelCalls summary per role, and null without model calls", () => {
    const bundle = goodBundle({ modelCalls: calls })
    const report = reportJson(bundle, evaluate(policy, null, bundle))
    assert.deepStrictEqual(report.modelCalls, calls)
    assert.isTrue(Schema.is(ReportJson)(report))
    const none = goodBundle({})
    assert.isNull(reportJson(none, evaluate(policy, null, none)).modelCalls)
  })

  it("explain.md shows the model calls and their cost beside the agent's", () => {
    const bundle = goodBundle({ modelCalls: calls })
    const md = renderExplain(bundle, evaluate(policy, null, bundle))
    assert.include(md, "- Model calls: reviewer 2 calls (1 failed), 12000 in / 800 out tokens, $0.05, 3.0 s")
    assert.include(md, "- Cost: agent $0.42 · model calls $0.05")
    const plain = goodBundle({})
    assert.notInclude(renderExplain(plain, evaluate(policy, null, plain)), "Model calls")
  })
})
