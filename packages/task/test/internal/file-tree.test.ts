import { assert, describe, it } from "@effect/vitest"
import { summarizeFileTree } from "../../src/internal/file-tree.js"

describe("summarizeFileTree", () => {
  it("lists every file when there are few", () => {
    assert.strictEqual(summarizeFileTree(["src/b.ts", "README.md", "src/a.ts"]), "README.md\nsrc/a.ts\nsrc/b.ts")
  })

  it("folds the deepest, biggest directories first until the summary fits", () => {
    const files = [
      "README.md",
      "src/index.ts",
      ...Array.from({ length: 30 }, (_, i) => `src/generated/deep/f${i}.ts`),
      ...Array.from({ length: 5 }, (_, i) => `test/t${i}.test.ts`)
    ]
    const summary = summarizeFileTree(files, 10).split("\n")
    assert.isAtMost(summary.length, 10)
    assert.include(summary, "src/generated/deep/ (30 files)")
    assert.include(summary, "README.md")
    assert.include(summary, "test/t0.test.ts")
  })
})
