import { NodeServices } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { cpSync, mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { formatProblem, IssueSource } from "../src/index.js"

const copyFixtures = (extra: Record<string, string> = {}) => {
  const dir = mkdtempSync(join(tmpdir(), "issues-"))
  cpSync(join(import.meta.dirname, "fixtures/project/fixtures/issues"), dir, { recursive: true })
  for (const [name, text] of Object.entries(extra)) writeFileSync(join(dir, name), text)
  return dir
}
const withSource = <A, E>(dir: string, f: (s: IssueSource["Service"]) => Effect.Effect<A, E>) =>
  IssueSource.use(f).pipe(Effect.provide(IssueSource.layerDirectory(dir).pipe(Layer.provide(NodeServices.layer))))

describe("IssueSource.layerDirectory", () => {
  it.effect("lists JSON and Markdown issues sorted by id", () =>
    withSource(copyFixtures(), (s) => s.list()).pipe(
      Effect.map(({ issues, problems }) => {
        assert.deepStrictEqual(
          issues.map((i) => i.id),
          ["DEMO-1", "DEMO-2", "DEMO-3"]
        )
        assert.deepStrictEqual(problems, [])
      })
    )
  )

  it.effect("keeps listing when one file is broken and reports it with its file and line", () =>
    withSource(
      copyFixtures({ "BROKEN-1.json": '{\n  "issue_id": "BROKEN-1",\n  "title": 7,\n  "summary": "s"\n}\n' }),
      (s) => s.list()
    ).pipe(
      Effect.map(({ issues, problems }) => {
        assert.strictEqual(issues.length, 3)
        assert.match(
          formatProblem(problems[0]!),
          /BROKEN-1\.json:3:3: error: title: expected a string, found the integer 7$/
        )
      })
    )
  )

  it.effect("gets one issue and suggests a close id when it does not exist", () =>
    Effect.gen(function* () {
      const dir = copyFixtures()
      const found = yield* withSource(dir, (s) => s.get("DEMO-3"))
      assert.strictEqual(found.title, "Document the CLI")
      const missing = yield* Effect.flip(withSource(dir, (s) => s.get("DEMO-33")))
      assert.strictEqual(missing._tag, "IssueNotFound")
      assert.match(missing.message, /issue DEMO-33 not found .* \(did you mean DEMO-3\?\)/)
    })
  )

  it.effect("refuses an id defined both as JSON and Markdown", () =>
    Effect.gen(function* () {
      const dir = copyFixtures({ "DEMO-1.md": "---\nid: DEMO-1\ntitle: dup\n---\nx\n" })
      const e = yield* Effect.flip(withSource(dir, (s) => s.get("DEMO-1")))
      assert.strictEqual(e._tag, "InvalidFile")
      assert.match(e.message, /issue DEMO-1 is defined twice \(DEMO-1\.json and DEMO-1\.md\)/)
    })
  )

  it.effect("fails a get on an invalid file with every problem named", () =>
    Effect.gen(function* () {
      const dir = copyFixtures({ "BAD-1.json": '{\n  "issue_id": "BAD-1"\n}\n' })
      const e = yield* Effect.flip(withSource(dir, (s) => s.get("BAD-1")))
      assert.strictEqual(e._tag, "InvalidFile")
      assert.match(e.message, /BAD-1\.json has 2 problems:\n {2}.*title: is required.*\n {2}.*summary: is required/)
    })
  )
})
