/**
 * `spec-orch spec draft`: the original's draft left a folder behind that made the next run crash. Ours
 * writes only the spec snapshot, so a run right after a draft works, approved or auto-approved.
 */
import { assert, describe, it } from "@effect/vitest"
import { existsSync, readdirSync } from "node:fs"
import { join } from "node:path"
import { makeProject } from "./utils/project.js"

describe("spec-orch spec draft", () => {
  it("drafts an issue's spec, creates nothing else, and the next run works", () => {
    const p = makeProject()
    p.issue("DRAFT-1", {
      builder_prompt: "WRITE src/draft.txt drafted",
      verification: { check: "test -f src/draft.txt" },
      target_files: ["src/"]
    })
    const state = join(p.root, ".spec-orch")
    const stateBefore = existsSync(state) ? readdirSync(state) : []
    const d = p.cli("spec", "draft", "DRAFT-1")
    assert.strictEqual(d.status, 0, d.stderr)
    assert.match(d.stdout, /^Drafted spec DRAFT-1 v1 from the issue \(not approved\)\.$/m)
    assert.match(
      d.stdout,
      /^note: DRAFT-1 has no acceptance criteria; add them to the issue so the review has something to check$/m
    )
    assert.match(
      d.stdout,
      /^Review it, then approve it with `spec-orch spec approve DRAFT-1` \(or run with --auto-approve\)\.$/m
    )
    assert.match(d.stdout, /^# DRAFT-1: /m)
    assert.isTrue(existsSync(join(p.root, ".spec-orch/specs/DRAFT-1.json")))
    assert.deepStrictEqual(
      readdirSync(state)
        .filter((n) => !stateBefore.includes(n))
        .filter((n) => n !== "specs" && !n.startsWith("state.db")),
      [],
      "a draft writes only the spec snapshot"
    )
    assert.isFalse(
      existsSync(join(p.root, ".spec-orch/runs")) && readdirSync(join(p.root, ".spec-orch/runs")).length > 0,
      "no run folder"
    )

    const again = p.cli("spec", "draft", "DRAFT-1", "--json")
    assert.strictEqual(again.status, 0, again.stderr)
    assert.strictEqual(JSON.parse(again.stdout).action, "unchanged")

    assert.strictEqual(p.cli("spec", "approve", "DRAFT-1").status, 0)
    const r = p.cli("run", "DRAFT-1", "--json")
    assert.strictEqual(r.status, 0, r.stderr)
    assert.strictEqual(JSON.parse(r.stdout).status, "succeeded")
  })

  it("a draft left unapproved does not stop an auto-approved run, and an unknown issue is named", () => {
    const p = makeProject()
    p.issue("DRAFT-2", {
      builder_prompt: "WRITE src/b.txt b",
      verification: { check: "test -f src/b.txt" },
      target_files: ["src/"]
    })
    assert.strictEqual(p.cli("spec", "draft", "DRAFT-2").status, 0)
    const r = p.cli("run", "DRAFT-2", "--auto-approve", "--json")
    assert.strictEqual(r.status, 0, r.stderr)
    assert.strictEqual(JSON.parse(r.stdout).status, "succeeded")
    const missing = p.cli("spec", "draft", "DRAFT-9")
    assert.strictEqual(missing.status, 1)
    assert.match(missing.stderr, /issue DRAFT-9 not found/)
  })
})
