import { assert, describe, it } from "@effect/vitest"
import { defaultConfig, type SpecOrchConfig } from "@spec-orch/contract"
import { answerPermission, policyFromBuilder } from "../src/index.js"

const builder = (over: Partial<SpecOrchConfig["builder"]> = {}): SpecOrchConfig["builder"] => ({
  ...defaultConfig().builder,
  ...over
})

describe("policyFromBuilder", () => {
  it("maps the defaults: acceptEdits with the allowed tools, workspace-write, low autonomy, no budgets", () => {
    const p = policyFromBuilder(builder(), { isRoot: false })
    assert.strictEqual(p.claude.permissionMode, "acceptEdits")
    // acceptEdits already accepts edits in the worktree; an allow rule for Write/Edit would let them write anywhere.
    assert.deepStrictEqual(p.claude.allowedTools, ["Bash", "Read", "Glob", "Grep"])
    assert.isFalse(p.confined)
    assert.strictEqual(p.codex.sandbox, "workspace-write")
    assert.strictEqual(p.codex.approval, "never")
    assert.strictEqual(p.droid.autonomy, "low")
    assert.deepStrictEqual(p.budgets, {})
    assert.deepStrictEqual(p.notes, [])
  })

  it("refuses bypass modes as root unless the config declares a sandbox, and says why", () => {
    const asRoot = policyFromBuilder(builder({ permission_mode: "bypassPermissions", sandbox: "danger-full-access" }), {
      isRoot: true
    })
    assert.strictEqual(asRoot.claude.permissionMode, "acceptEdits")
    assert.strictEqual(asRoot.codex.sandbox, "workspace-write")
    assert.strictEqual(asRoot.notes.length, 2)
    assert.include(asRoot.notes[0]!, "refused when running as root")
    assert.include(asRoot.notes[0]!, "IS_SANDBOX")

    const sandboxed = policyFromBuilder(
      builder({ permission_mode: "bypassPermissions", sandbox: "danger-full-access", env: { IS_SANDBOX: "1" } }),
      { isRoot: true }
    )
    assert.strictEqual(sandboxed.claude.permissionMode, "bypassPermissions")
    assert.strictEqual(sandboxed.codex.sandbox, "danger-full-access")
    assert.isTrue(sandboxed.sandboxed)

    const notRoot = policyFromBuilder(builder({ permission_mode: "bypassPermissions" }), { isRoot: false })
    assert.strictEqual(notRoot.claude.permissionMode, "bypassPermissions")
  })

  it("keeps edit tools the user allowed under other permission modes, and path-scoped rules always", () => {
    const p = policyFromBuilder(builder({ permission_mode: "default", allowed_tools: ["Write", "Bash(cat:*)"] }), {
      isRoot: false
    })
    assert.deepStrictEqual(p.claude.allowedTools, ["Write", "Bash(cat:*)"])
    const scoped = policyFromBuilder(builder({ allowed_tools: ["Edit(src/**)", " Write ", "Bash"] }), { isRoot: false })
    assert.deepStrictEqual(scoped.claude.allowedTools, ["Edit(src/**)", "Bash"])
  })

  it("inside spec-orch's box: Codex drops its own sandbox, bypass is allowed as root, allowed tools stay as configured", () => {
    const p = policyFromBuilder(builder(), { isRoot: true, confined: true })
    assert.isTrue(p.confined)
    assert.strictEqual(p.codex.sandbox, "danger-full-access")
    assert.deepStrictEqual(p.claude.allowedTools, ["Bash", "Read", "Write", "Edit", "Glob", "Grep"])
    assert.strictEqual(p.claude.permissionMode, "acceptEdits")
    assert.deepStrictEqual(p.notes, [])

    const bypass = policyFromBuilder(builder({ permission_mode: "bypassPermissions" }), {
      isRoot: true,
      confined: true
    })
    assert.strictEqual(bypass.claude.permissionMode, "bypassPermissions")
    assert.deepStrictEqual(bypass.notes, [])

    const readOnly = policyFromBuilder(builder({ sandbox: "read-only" }), { isRoot: true, confined: true })
    assert.strictEqual(readOnly.codex.sandbox, "read-only")
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
