import { assert, describe, it } from "@effect/vitest"
import { IssueSource } from "@spec-orch/contract"
import { fakeLinear, tempDir, writeFiles } from "@spec-orch/test-kit"
import { Effect, Layer } from "effect"
import { TrackerIssueSource } from "../src/trackers/TrackerIssueSource.js"
import { trackerWorld, type TomlLike } from "./utils/trackers.js"

const sourceFor = (root: string, config: TomlLike, env: Record<string, string> = {}) =>
  TrackerIssueSource.layer.pipe(Layer.provideMerge(trackerWorld({ root, config, env })))

describe("TrackerIssueSource.layer", () => {
  it.live("uses the fixture files by default", () =>
    Effect.gen(function* () {
      const root = yield* tempDir("tracker-source-")
      writeFiles(root, {
        "fixtures/issues/SPC-1.json": JSON.stringify({ issue_id: "SPC-1", title: "From a file", summary: "s" })
      })
      const { name, issues } = yield* IssueSource.use((s) =>
        s.list().pipe(Effect.map((l) => ({ name: s.name, issues: l.issues })))
      ).pipe(Effect.provide(sourceFor(root, {})))
      assert.strictEqual(name, "fixtures (fixtures/issues)")
      assert.deepStrictEqual(
        issues.map((i) => i.id),
        ["SPC-1"]
      )
    })
  )

  it.live('uses Linear when [issue] source = "linear"', () =>
    Effect.gen(function* () {
      const root = yield* tempDir("tracker-source-")
      const fake = yield* fakeLinear()
      fake.addIssue({ title: "From Linear", state: "Ready" })
      const config = { issue: { source: "linear" }, linear: { api_url: fake.url, team_key: "SON" } }
      const issue = yield* IssueSource.use((s) => s.get("SON-1")).pipe(
        Effect.provide(sourceFor(root, config, { SPEC_ORCH_LINEAR_TOKEN: fake.token }))
      )
      assert.strictEqual(issue.title, "From Linear")
    })
  )

  it.live("an unknown source says which values are known", () =>
    Effect.gen(function* () {
      const root = yield* tempDir("tracker-source-")
      const error = yield* IssueSource.use((s) => s.list()).pipe(
        Effect.provide(sourceFor(root, { issue: { source: "jira" } })),
        Effect.flip
      )
      assert.strictEqual(error._tag, "IssueSourceUnavailable")
      assert.match(
        error.message,
        /unknown \[issue\] source "jira" in spec-orch.toml: use "fixture", "linear" or "github"/
      )
    })
  )
})
