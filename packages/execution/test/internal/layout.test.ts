/** What a run's box gets mounted: programs the command names are put back where the box hides them. */
import { assert, describe, it } from "@effect/vitest"
import { mkdirSync, mkdtempSync, realpathSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { runBoxLayout } from "../../src/internal/layout.js"

describe("runBoxLayout", () => {
  it("puts back read-only a program the command names under /tmp (the box's own /tmp is empty), and nothing it does not need", () => {
    // Under /tmp itself, whatever $TMPDIR says: that is the directory the box replaces.
    const base = realpathSync(mkdtempSync("/tmp/layout-"))
    const worktree = join(base, "worktree")
    const tools = join(base, "tools")
    mkdirSync(worktree)
    mkdirSync(tools)
    writeFileSync(join(tools, "agent.mjs"), "")
    const layout = runBoxLayout({
      worktree,
      programs: ["/usr/bin/env", join(tools, "agent.mjs"), join(tools, "missing.mjs"), "--flag"],
      network: { _tag: "none" }
    })
    assert.deepStrictEqual(layout.mounts, [
      { source: join(tools, "agent.mjs"), access: "ro" },
      { source: worktree, access: "rw" }
    ])
    assert.deepStrictEqual(layout.hide, [], "not a git worktree: no main checkout to hide")
  })

  it("puts back read-only the command's PATH directories under /tmp, never /tmp itself nor one holding a hidden path", () => {
    const base = realpathSync(mkdtempSync("/tmp/layout-"))
    const worktree = join(base, "worktree")
    const bin = join(base, "tools", "bin")
    const secretParent = join(base, "state")
    mkdirSync(worktree)
    mkdirSync(bin, { recursive: true })
    mkdirSync(join(secretParent, "db"), { recursive: true })
    const layout = runBoxLayout({
      worktree,
      hide: [join(secretParent, "db")],
      searchPath: [bin, "/tmp", secretParent, join(base, "gone"), "relative/bin", "/usr/bin"].join(":"),
      network: { _tag: "none" }
    })
    assert.deepStrictEqual(layout.mounts, [
      { source: bin, access: "ro" },
      { source: worktree, access: "rw" }
    ])
  })
})
