import { assert, describe, it } from "@effect/vitest"
import { defaultConfig, type SpecOrchConfig } from "@spec-orch/contract"
import { answerPermission, policyFromBuilder } from "../src/index.js"

const builder = (over: Partial<SpecOrchConfig["builder"]> = {}): SpecOrchConfig["builder"] => ({ ...defaultConfig().builder, ...over })

describe("policyFromBuilder", () => {
  it("maps the defaults: acceptEdits with the allowed tools, workspace-write, low autonomy, no budgets", () => {
    const p = policyFromBuilder(builder(), { isRoot: false })
    assert.strictEqual(p.claude.permissionMode, "acceptEdits")
    assert.deepStrictEqual(p.claude.allowedTools, ["Bash", "Read", "Write", "Edit", "Glob", "Grep"])
    assert.strictEqual(p.codex.sandbox, "workspace-write")
    assert.strictEqual(p.codex.approval, "never")
    assert.strictEqual(p.droid.autonomy, "low")
    assert.deepStrictEqual(p.budgets, {})
    assert.deepStrictEqual(p.notes, [])
  })

  it("refuses bypass modes as root unless the config declares a sandbox, and says why", () => {
    const asRoot = policyFromBuilder(builder({ permission_mode: "bypassPermissions", sandbox: "danger-full-access" }), { isRoot: true })
    assert.strictEqual(asRoot.claude.permissionMode, "acceptEdits")
    assert.strictEqual(asRoot.codex.sandbox, "workspace-write")
    assert.strictEqual(asRoot.notes.length, 2)
    assert.include(asRoot.notes[0]!, "refused when running as root")
    assert.include(asRoot.notes[0]!, "IS_SANDBOX")

    const sandboxed = policyFromBuilder(builder({ permission_mode: "bypassPermissions", sandbox: "danger-full-access", env: { IS_SANDBOX: "1" } }), { isRoot: true })
    assert.strictEqual(sandboxed.claude.permissionMode, "bypassPermissions")
    assert.strictEqual(sandboxed.codex.sandbox, "danger-full-access")
    assert.isTrue(sandboxed.sandboxed)

    const notRoot = policyFromBuilder(builder({ permission_mode: "bypassPermissions" }), { isRoot: false })
    assert.strictEqual(notRoot.claude.permissionMode, "bypassPermissions")
  })

  it("falls back to workspace-write for an unknown sandbox name and notes it", () => {
    const p = policyFromBuilder(builder({ sandbox: "full" }), { isRoot: false })
    assert.strictEqual(p.codex.sandbox, "workspace-write")
    assert.include(p.notes[0]!, `sandbox = "full" is not a Codex sandbox`)
  })

  it("takes budgets from max_cost_usd and max_tokens", () => {
    const p = policyFromBuilder(builder({ max_cost_usd: 2.5, max_tokens: 100000 }), { isRoot: false })
    assert.deepStrictEqual(p.budgets, { maxUsd: 2.5, maxTokens: 100000 })
  })
})

describe("answerPermission", () => {
  const fullAuto = policyFromBuilder(builder(), { isRoot: true })
  const readsOnly = policyFromBuilder(builder({ permissions: "approve-reads" }), { isRoot: true })

  it("allows edits and commands inside the worktree under full-auto, denies network", () => {
    assert.strictEqual(answerPermission(fullAuto, { kind: "edit", insideWorktree: true }).answer, "allow")
    assert.strictEqual(answerPermission(fullAuto, { kind: "execute", insideWorktree: true }).answer, "allow")
    assert.strictEqual(answerPermission(fullAuto, { kind: "fetch", insideWorktree: true }).answer, "deny")
  })

  it("denies anything that names a path outside the worktree, whatever the mode", () => {
    const a = answerPermission(fullAuto, { kind: "read", insideWorktree: false })
    assert.strictEqual(a.answer, "deny")
    assert.strictEqual(a.reason, "the tool call names a path outside the worktree")
  })

  it("allows only reads under approve-reads", () => {
    assert.strictEqual(answerPermission(readsOnly, { kind: "read", insideWorktree: true }).answer, "allow")
    assert.strictEqual(answerPermission(readsOnly, { kind: "edit", insideWorktree: true }).answer, "deny")
    assert.strictEqual(answerPermission(readsOnly, { kind: "execute", insideWorktree: true }).answer, "deny")
  })
})
