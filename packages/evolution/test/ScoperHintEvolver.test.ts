import { assert, describe, it } from "@effect/vitest"
import { EvidenceBundle, Footprint, Issue } from "@spec-orch/contract"
import { EvidenceLedger, type LedgerRecord } from "@spec-orch/evidence"
import { Learnings, Redactor } from "@spec-orch/harness"
import { SqliteClient } from "@spec-orch/sqlite"
import { Effect, Layer, Schema } from "effect"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import {
  type Actor,
  ProposalLearnings,
  Proposals,
  proposeScoperHints,
  SCOPER_HINT_EVOLVER,
  scoperHintCandidates,
  scoperHintText
} from "../src/index.js"
import { verdictOf } from "./utils/runs.js"

/** A run of `issue` that changed `changed` with `allowed` as its declared scope. */
const bundle = (runId: string, issueId: string, allowed: ReadonlyArray<string>, changed: ReadonlyArray<string>) =>
  new EvidenceBundle({
    schemaVersion: 1,
    issueId,
    runId,
    changedFiles: [...changed],
    footprint: new Footprint({ allowed: [...allowed], forbidden: ["secrets/"] })
  })

const record = (seq: number, b: EvidenceBundle): LedgerRecord => ({
  seq,
  issueId: b.issueId,
  runId: b.runId ?? null,
  recordedAt: `2026-12-01T10:00:${String(seq).padStart(2, "0")}.000Z`,
  bundle: b,
  verdict: verdictOf([])
})

describe("scoperHintCandidates", () => {
  it("hints a file that runs of two issues changed outside their scope, and nothing for one issue, forbidden or incidental files", () => {
    const records = [
      record(
        1,
        bundle(
          "r1",
          "SON-1",
          ["src/api/users.ts"],
          ["src/api/users.ts", "src/routes.ts", "CHANGES.md", "package-lock.json"]
        )
      ),
      record(
        2,
        bundle(
          "r2",
          "SON-2",
          ["src/api/orders.ts"],
          ["src/api/orders.ts", "src/routes.ts", "secrets/key", "package-lock.json"]
        )
      ),
      record(3, bundle("r3", "SON-3", ["src/api/items.ts"], ["src/api/items.ts", "docs/only-once.md", "secrets/key"])),
      // SON-1 ran twice: the same issue does not make a pattern on its own.
      record(4, bundle("r4", "SON-1", ["src/api/users.ts"], ["src/api/users.ts", "CHANGES.md", "package-lock.json"]))
    ]
    const hints = scoperHintCandidates(records)
    assert.deepStrictEqual(
      hints.map((h) => [h.file, h.runs, h.issues]),
      [["src/routes.ts", ["r1", "r2"], ["SON-1", "SON-2"]]]
    )
    assert.deepStrictEqual(hints[0]!.alongside, ["src/api/orders.ts", "src/api/users.ts"])
    assert.strictEqual(hints[0]!.content, scoperHintText("src/routes.ts"))
    assert.notInclude(hints[0]!.content, "r1", "the text names no run: the same pattern is the same proposal")
    assert.deepStrictEqual(scoperHintCandidates(records, { minIssues: 3 }), [])
  })

  it("counts a run once, by its last judgement, and drops paths that are not plain or that carry a secret", () => {
    const records = [
      record(1, bundle("r1", "SON-1", ["src/a.ts"], ["src/a.ts", "src/index.ts"])),
      // Re-judged after the deviation was dealt with: its last record has no deviation.
      record(2, bundle("r1", "SON-1", ["src/a.ts", "src/index.ts"], ["src/a.ts", "src/index.ts"])),
      record(3, bundle("r2", "SON-2", ["src/b.ts"], ["src/b.ts", "src/index.ts", "../outside.ts", "x\ny.ts"])),
      record(4, bundle("r3", "SON-3", ["src/c.ts"], ["src/c.ts", "../outside.ts", "x\ny.ts", "tok_SECRET123.ts"])),
      record(5, bundle("r4", "SON-4", ["src/d.ts"], ["src/d.ts", "tok_SECRET123.ts"]))
    ]
    assert.deepStrictEqual(
      scoperHintCandidates(records).map((h) => h.file),
      ["tok_SECRET123.ts"],
      "../outside.ts and a path with a newline are never hinted"
    )
    assert.deepStrictEqual(
      scoperHintCandidates(records, {}, (t) => !t.includes("SECRET")).map((h) => h.file),
      [],
      "a path the redactor would change is dropped"
    )
  })
})

const human: Actor = { type: "human", id: "ana" }

const world = () => {
  const db = SqliteClient.layer({ filename: join(mkdtempSync(join(tmpdir(), "scoper-hints-")), "state.db") })
  const stores = Layer.mergeAll(
    Proposals.layer.pipe(Layer.provide(Redactor.layerFrom({}))),
    EvidenceLedger.layer().pipe(Layer.orDie),
    Redactor.layerFrom({})
  ).pipe(Layer.provideMerge(db))
  const learnings = ProposalLearnings.pipe(
    Layer.provide(Learnings.layerStatic([{ id: "mem-1", text: "from memory", source: "run-0" }]))
  )
  return learnings.pipe(Layer.provideMerge(stores))
}

describe("proposeScoperHints", () => {
  it.effect("proposes the hint from the ledger; once approved the planner is told it first and the builder never", () =>
    Effect.gen(function* () {
      const ledger = yield* EvidenceLedger
      for (const [runId, issueId, own] of [
        ["r1", "SON-1", "src/api/users.ts"],
        ["r2", "SON-2", "src/api/orders.ts"]
      ] as const) {
        yield* ledger.record(bundle(runId, issueId, [own], [own, "src/routes.ts"]), verdictOf(["within_boundaries"]))
      }
      const made = yield* proposeScoperHints()
      assert.strictEqual(made.length, 1)
      const p = made[0]!.proposal
      assert.strictEqual(p.kind, "scoper-hint")
      assert.strictEqual(p.state, "proposed", "proposed only: nothing reaches a plan before approval")
      assert.deepStrictEqual(p.sources.runIds, ["r1", "r2"])
      const proposals = yield* Proposals
      assert.deepStrictEqual((yield* proposals.history(p.id))[0]!.actor, SCOPER_HINT_EVOLVER)
      assert.strictEqual((yield* proposeScoperHints())[0]!.proposal.id, p.id, "the same evidence, the same proposal")

      const learnings = yield* Learnings
      const scope = { missionId: "billing", issueIds: ["billing.api"], files: ["src/api/invoices.ts"] }
      assert.deepStrictEqual(
        (yield* learnings.forMission(scope)).map((l) => l.id),
        ["mem-1"],
        "not before approval"
      )
      yield* proposals.transition(p.id, "validated", { actor: human, why: "checked" })
      yield* proposals.transition(p.id, "approved", { actor: human, why: "yes" })
      const told = yield* learnings.forMission(scope)
      assert.deepStrictEqual(
        told.map((l) => l.id),
        [`${p.id}@${p.contentHash}`, "mem-1"]
      )
      assert.include(told[0]!.text, "list src/routes.ts in that packet's files_in_scope")
      const builder = yield* learnings.forIssue(
        Schema.decodeUnknownSync(Issue)({
          id: "SON-3",
          title: "Add a route",
          summary: "GET /health",
          acceptanceCriteria: [],
          constraints: [],
          filesToRead: [],
          targetFiles: ["src/routes.ts"],
          labels: [],
          origin: { kind: "fixture", ref: "fixtures/issues/SON-3.json" }
        }),
        "builder"
      )
      assert.deepStrictEqual(
        builder.map((l) => l.id),
        ["mem-1"],
        "the builder is not told a scoper hint"
      )
    }).pipe(Effect.provide(world()))
  )
})
