/** Handlers for `spec-orch issue`. */
import { formatProblem, IssueSource, type Issue } from "@spec-orch/contract"
import { Console, Effect, Option } from "effect"
import { emit, table } from "../Output.js"
import { withContract } from "../ContractPlane.js"

const commandText = (c: string | ReadonlyArray<string>) => (typeof c === "string" ? c : c.join(" "))

/** The issue as plain JSON (the contract's encoded form). */
export const issueJson = (i: Issue) => ({
  id: i.id,
  title: i.title,
  summary: i.summary,
  builderPrompt: i.builderPrompt ?? null,
  acceptanceCriteria: i.acceptanceCriteria.map((c) => ({ id: c.id, text: c.text })),
  constraints: i.constraints,
  filesToRead: i.filesToRead,
  targetFiles: i.targetFiles,
  architectureNotes: i.architectureNotes ?? null,
  verification:
    i.verification?.map((s) => ({
      name: s.name,
      command: s.command,
      ...(s.timeoutSeconds ? { timeoutSeconds: s.timeoutSeconds } : {})
    })) ?? null,
  labels: i.labels,
  runClass: i.runClass ?? null,
  mission: i.mission ? { missionId: i.mission.missionId, packetId: i.mission.packetId ?? null } : null,
  origin: {
    kind: i.origin.kind,
    ref: i.origin.ref,
    ...(i.origin.url ? { url: i.origin.url } : {}),
    ...(i.origin.state ? { state: i.origin.state } : {})
  }
})

export const list = ({ json, source: from }: { json: boolean; source: Option.Option<string> }) =>
  withContract(
    Effect.gen(function* () {
      const source = yield* IssueSource
      const { issues, problems } = yield* source.list()
      yield* emit(json, { source: source.name, issues: issues.map(issueJson), problems }, () =>
        issues.length === 0
          ? `No issues in ${source.name}.`
          : table(
              ["ID", "TITLE", "AC", "VERIFY", "BUILDER"],
              issues.map((i) => [
                i.id,
                i.title,
                String(i.acceptanceCriteria.length),
                i.verification ? String(i.verification.length) : "config",
                i.builderPrompt !== undefined ? "yes" : "skip"
              ])
            )
      )
      for (const p of problems) yield* Console.error(formatProblem(p))
    }),
    { source: Option.getOrUndefined(from) }
  )

export const show = ({ id, json, source: from }: { id: string; json: boolean; source: Option.Option<string> }) =>
  withContract(
    Effect.gen(function* () {
      const source = yield* IssueSource
      const i = yield* source.get(id)
      yield* emit(json, issueJson(i), () => [
        `${i.id}: ${i.title}`,
        `source: ${i.origin.kind} ${i.origin.ref}`,
        ...(i.labels.length > 0 ? [`labels: ${i.labels.join(", ")}`] : []),
        "",
        i.summary,
        ...(i.builderPrompt !== undefined
          ? ["", "Builder prompt:", ...i.builderPrompt.split("\n").map((l) => `  ${l}`)]
          : ["", "Builder prompt: none (the builder step is skipped)"]),
        ...(i.acceptanceCriteria.length > 0
          ? ["", "Acceptance criteria:", ...i.acceptanceCriteria.map((c) => `  [ ] ${c.id} ${c.text}`)]
          : []),
        ...(i.constraints.length > 0 ? ["", "Constraints:", ...i.constraints.map((c) => `  - ${c}`)] : []),
        ...(i.filesToRead.length > 0 ? ["", "Files to read:", ...i.filesToRead.map((c) => `  - ${c}`)] : []),
        ...(i.verification
          ? [
              "",
              "Verification (replaces [verification]):",
              ...i.verification.map((s) => `  ${s.name}: ${commandText(s.command)}`)
            ]
          : ["", "Verification: from spec-orch.toml [verification]"])
      ])
    }),
    { source: Option.getOrUndefined(from) }
  )
