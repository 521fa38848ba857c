import { assert, describe, it } from "@effect/vitest"
import { defaultConfig, type SpecOrchConfig } from "@spec-orch/contract"
import { policyFromBuilder } from "@spec-orch/harness"
import { makeTempDir, removeDir } from "@spec-orch/test-kit"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { type AdapterName, prepare } from "../src/internal/adapters.js"

const builder = (over: Partial<SpecOrchConfig["builder"]> = {}): SpecOrchConfig["builder"] => ({
  ...defaultConfig().builder,
  ...over
})

/** What `prepare` launches for `adapter`, as root, inside spec-orch's box or not. */
const launch = (
  adapter: AdapterName,
  confined: boolean,
  over: Partial<SpecOrchConfig["builder"]> = {},
  agent?: string
) => {
  const runDir = makeTempDir("spec-orch-prepare-")
  try {
    const b = builder(over)
    const prepared = prepare({
      adapter,
      agent,
      cwd: "/work/tree",
      prompt: "p",
      runDir,
      builder: b,
      confined,
      policy: policyFromBuilder(b, { isRoot: true, confined }),
      endpoint: { baseUrl: "http://127.0.0.1:9", retries: false }
    })
    const read = (path: string) => readFileSync(join(runDir, path), "utf8")
    return {
      ...prepared,
      runDir,
      codexConfig: adapter === "codex" || agent === "codex" ? read("home/.codex/config.toml") : ""
    }
  } finally {
    removeDir(runDir)
  }
}

const flag = (args: ReadonlyArray<string>, name: string) => args[args.indexOf(name) + 1]

describe("prepare: Codex", () => {
  it("outside the box: workspace-write without /tmp, a private TMPDIR so its sandbox helper can be linked, no shell snapshot", () => {
    const p = launch("codex", false)
    assert.strictEqual(flag(p.args, "-s"), "workspace-write")
    assert.include(p.codexConfig, `sandbox_mode = "workspace-write"`)
    assert.include(p.codexConfig, "[sandbox_workspace_write]\nexclude_slash_tmp = true")
    assert.include(p.codexConfig, "shell_snapshot = false")
    assert.strictEqual(p.env.TMPDIR, join(p.runDir, "home", "tmp"))
    assert.isFalse(
      join(p.runDir, "home", ".codex").startsWith(`${p.env.TMPDIR}/`),
      "CODEX_HOME is not inside the temp dir"
    )
  })

  it("inside the box: danger-full-access (its bubblewrap cannot nest in ours); read-only stays read-only", () => {
    const p = launch("codex", true)
    assert.strictEqual(flag(p.args, "-s"), "danger-full-access")
    assert.include(p.codexConfig, `sandbox_mode = "danger-full-access"`)
    assert.strictEqual(flag(launch("codex", true, { sandbox: "read-only" }).args, "-s"), "read-only")
  })

  it("codex-acp gets the same config and TMPDIR", () => {
    const p = launch("acp", true, {}, "codex")
    assert.include(p.codexConfig, `sandbox_mode = "danger-full-access"`)
    assert.isDefined(p.env.TMPDIR)
  })
})

describe("prepare: Claude Code", () => {
  it("outside the box: acceptEdits without bare edit tools in --allowedTools, and never IS_SANDBOX", () => {
    const p = launch("claude_code", false)
    assert.strictEqual(flag(p.args, "--permission-mode"), "acceptEdits")
    assert.strictEqual(flag(p.args, "--allowedTools"), "Bash,Read,Glob,Grep")
    assert.isUndefined(p.env.IS_SANDBOX)
    assert.strictEqual(
      flag(launch("claude_code", false, { permission_mode: "bypassPermissions" }).args, "--permission-mode"),
      "acceptEdits",
      "bypass is refused as root outside a sandbox"
    )
  })

  it("inside the box: the configured tools, and bypassPermissions as root with IS_SANDBOX=1", () => {
    assert.strictEqual(flag(launch("claude_code", true).args, "--allowedTools"), "Bash,Read,Write,Edit,Glob,Grep")
    const bypass = launch("claude_code", true, { permission_mode: "bypassPermissions" })
    assert.strictEqual(flag(bypass.args, "--permission-mode"), "bypassPermissions")
    assert.strictEqual(bypass.env.IS_SANDBOX, "1")
    assert.isUndefined(launch("claude_code", true).env.IS_SANDBOX, "only when a bypass mode was chosen")
  })
})

describe("prepare: opencode", () => {
  it("denies paths outside the project, and webfetch, whatever the box", () => {
    for (const confined of [false, true]) {
      const config = JSON.parse(launch("opencode", confined).env.OPENCODE_CONFIG_CONTENT!)
      assert.deepStrictEqual(config.permission, {
        edit: "allow",
        bash: "allow",
        webfetch: "deny",
        external_directory: "deny"
      })
    }
  })
})
