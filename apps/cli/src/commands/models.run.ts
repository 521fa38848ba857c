/** Handler for `spec-orch models check`: probe each configured model and show which chain each LLM role uses. */
import { formatModelCost, Project } from "@spec-orch/contract"
import { type LlmRole, type ModelCheck, Models, type RoleModels, type RoleSource } from "@spec-orch/harness"
import { Effect } from "effect"
import { emit, ExitCode, setExitCode, table } from "../Output.js"
import { withPlanes } from "../Planes.js"

const SOURCE: Record<RoleSource, (role: LlmRole) => string> = {
  model_chain: (r) => `[${r}] model_chain`,
  model_ref: (r) => `[${r}] model_ref`,
  inline: (r) => `[${r}] model`,
  "llm.default_model_chain": () => "[llm] default_model_chain",
  "llm.default_model_ref": () => "[llm] default_model_ref",
  env: () => "$SPEC_ORCH_LLM_MODEL"
}

/** How a role reads in the summary under the table. */
const roleLine = (r: RoleModels, reviewerAdapter: string): string => {
  const head = `${r.role}: `
  if (r.role === "reviewer" && reviewerAdapter !== "llm")
    return `${head}not used ([reviewer] adapter = "${reviewerAdapter}"; a person reviews)`
  if (r.plan === undefined)
    return `${head}${r.problem?.reason._tag === "RoleNotConfigured" ? "no model configured" : (r.problem?.message ?? "no model")}${r.role === "planner" ? " (the planner works offline)" : ""}`
  const chain = `${r.plan.name} (${SOURCE[r.plan.source](r.role)}): ${r.plan.members.map((m) => m.id).join(" → ")}`
  if (r.problem === undefined) return `${head}${chain}`
  return `${head}${chain} — ${r.problem.reason._tag === "RoleUnusable" ? "unusable: no model of the chain has its key and base (see above)" : r.problem.message}`
}

const oneLine = (text: string) => text.replace(/\s+/g, " ").trim()

export const check = ({ json }: { json: boolean }) =>
  withPlanes(
    Effect.gen(function* () {
      const project = yield* Project
      const models = yield* Models
      const checks: ReadonlyArray<ModelCheck> = yield* models.check
      const ok = checks.every((c) => c.ok)
      if (!ok) yield* setExitCode(ExitCode.failure)
      const reviewerAdapter = project.config.reviewer.adapter
      const roles = models.roles.map((r) => ({
        role: r.role,
        ...(r.plan !== undefined
          ? {
              chain: r.plan.name,
              source: r.plan.source,
              models: r.plan.members.map((m) => m.id),
              usable: r.usable.map((m) => m.id)
            }
          : {}),
        ...(r.problem !== undefined ? { problem: r.problem.reason._tag, message: r.problem.message } : {}),
        ...(r.role === "reviewer" ? { adapter: reviewerAdapter } : {})
      }))
      yield* emit(json, { ok, models: checks, roles }, () => {
        if (checks.length === 0) {
          return [
            "No models configured: add [models.<id>] and [llm] default_model_chain (or a role's model) to spec-orch.toml.",
            "Without a model the planner works offline and a person reviews."
          ]
        }
        const rows = checks.map((c) => [
          c.id,
          c.api ?? "",
          c.model ?? "",
          c.ok ? "ok" : "failed",
          c.latencyMs !== undefined ? `${c.latencyMs} ms` : "—",
          c.latencyMs !== undefined ? `${c.inputTokens + c.outputTokens} tok, ${formatModelCost(c.costUsd)}` : "—",
          c.ok ? "" : oneLine(c.reason ?? "")
        ])
        const failed = checks.filter((c) => !c.ok).length
        return [
          table(["MODEL", "API", "NAME", "RESULT", "LATENCY", "COST", "REASON"], rows),
          "",
          ...models.roles.map((r) => roleLine(r, reviewerAdapter)),
          "",
          failed === 0
            ? `${checks.length} model${checks.length === 1 ? "" : "s"} ok`
            : `${failed} of ${checks.length} models failed`
        ]
      })
    })
  )
