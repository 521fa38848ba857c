import { NodeServices } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { mkdtempSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import {
  AcceptanceCriterion,
  Issue,
  IssueOrigin,
  makeIssueId,
  Project,
  Specs,
  specState,
  unresolvedBlocking
} from "../src/index.js"

const issue = (summary = "Expose GET /health.") =>
  new Issue({
    id: makeIssueId("DEMO-1"),
    title: "Health endpoint",
    summary,
    builderPrompt: "Add GET /health",
    acceptanceCriteria: [new AcceptanceCriterion({ id: "AC-1", text: "returns 200" })],
    constraints: [],
    filesToRead: [],
    targetFiles: [],
    labels: [],
    origin: new IssueOrigin({ kind: "fixture", ref: "DEMO-1.json" })
  })

const run = <A, E>(root: string, f: (s: Specs["Service"]) => Effect.Effect<A, E>) =>
  Specs.use(f).pipe(
    Effect.provide(Specs.layer.pipe(Layer.provide(Project.layerFrom(root)), Layer.provide(NodeServices.layer)))
  )

describe("Specs", () => {
  it.effect("creates an unapproved v1 snapshot outside any worktree, in the state directory", () =>
    Effect.gen(function* () {
      const root = mkdtempSync(join(tmpdir(), "specs-"))
      const s = yield* run(root, (specs) => specs.sync(issue()))
      assert.strictEqual(s.version, 1)
      assert.strictEqual(specState(s), "unapproved")
      const stored = JSON.parse(readFileSync(join(root, ".spec-orch/specs/DEMO-1.json"), "utf8"))
      assert.strictEqual(stored.contentHash, s.contentHash)
    })
  )

  it.effect("approval records who, when and the hash; a later change to the issue is detected", () =>
    Effect.gen(function* () {
      const root = mkdtempSync(join(tmpdir(), "specs-"))
      const approved = yield* run(root, (specs) => specs.approve(issue(), "ada"))
      assert.strictEqual(specState(approved), "approved")
      assert.strictEqual(approved.approval!.approvedBy, "ada")
      assert.strictEqual(approved.approval!.contentHash, approved.contentHash)
      const changed = yield* run(root, (specs) => specs.sync(issue("Expose GET /health and /ready.")))
      assert.strictEqual(specState(changed), "changed-since-approval")
      const again = yield* run(root, (specs) => specs.approve(issue("Expose GET /health and /ready."), "grace"))
      assert.strictEqual(again.version, 2)
      assert.strictEqual(again.approval!.approvedBy, "grace")
    })
  )

  it.effect("a blocking question stays unresolved until it is answered", () =>
    Effect.gen(function* () {
      const root = mkdtempSync(join(tmpdir(), "specs-"))
      const q = yield* run(root, (specs) =>
        specs.ask(issue(), { text: "Which port?", category: "environment", blocking: true, askedBy: "ada" })
      )
      assert.strictEqual(q.id, "Q1")
      const open = yield* run(root, (specs) => specs.sync(issue()))
      assert.deepStrictEqual(
        unresolvedBlocking(open).map((x) => x.id),
        ["Q1"]
      )
      yield* run(root, (specs) => specs.answer(issue(), "Q1", "8080", "grace"))
      const closed = yield* run(root, (specs) => specs.sync(issue()))
      assert.deepStrictEqual(unresolvedBlocking(closed), [])
      const e = yield* Effect.flip(run(root, (specs) => specs.answer(issue(), "Q9", "x", "grace")))
      assert.strictEqual(e._tag, "QuestionNotFound")
    })
  )
})
