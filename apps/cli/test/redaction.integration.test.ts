/**
 * Redaction and the secret scan end to end, with the real binary, real git and the real state
 * database: an agent that prints a secret from its environment and commits a token leaves neither
 * anywhere spec-orch writes or prints, the gate blocks on `secrets` at the file and line, and the
 * branch is not pushed.
 */
import { assert, describe, it } from "@effect/vitest"
import { spawnSync } from "node:child_process"
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, relative } from "node:path"
import { makeProject } from "./utils/project.js"

// Assembled at run time so that no file in this repository holds a token.
const MODEL_KEY = `plain-model-key-${process.pid}-x7Q2`
const GITHUB_TOKEN = `ghp_${"R4nd0mT0k3nV4lu3F0rT3st1ng0123456789".slice(0, 36)}`

/** The agent: says its model key, writes a token into a source file at line 3 and the key into a config file. */
const AGENT = `
import { mkdirSync, writeFileSync } from "node:fs"
const say = (e) => console.log(JSON.stringify(e))
say({ type: "message", text: "my key is " + process.env.ANTHROPIC_API_KEY })
console.error("debug: ANTHROPIC_API_KEY=" + process.env.ANTHROPIC_API_KEY)
mkdirSync("src", { recursive: true })
mkdirSync("config", { recursive: true })
writeFileSync("src/config.ts", "// settings\\nexport const owner = 'acme'\\nexport const token = '" + ${JSON.stringify(GITHUB_TOKEN.slice(0, 10))} + ${JSON.stringify(GITHUB_TOKEN.slice(10))} + "'\\n")
writeFileSync("config/model.env", "MODEL_KEY=" + process.env.ANTHROPIC_API_KEY + "\\n")
say({ type: "file_change", path: "src/config.ts", kind: "add" })
say({ type: "result", text: "done; the key was " + process.env.ANTHROPIC_API_KEY })
`

/** Every file spec-orch writes is checked: the agent's own stream files and the verification logs are redacted too. */
const NOT_YET_REDACTED = /^$/

const filesUnder = (dir: string): Array<string> =>
  readdirSync(dir).flatMap((name) => {
    const full = join(dir, name)
    return statSync(full).isDirectory() ? filesUnder(full) : [full]
  })

describe("redaction and the secret scan", () => {
  it("keeps a secret the agent printed and a token it committed out of everything written and shown, blocks on secrets, and pushes nothing", () => {
    const p = makeProject({
      verification: { check: 'echo "key in test output: $ANTHROPIC_API_KEY"; true' },
      builder: ['adapter = "command"', 'command = ["node", "tools/leaky-agent.mjs"]', "timeout_seconds = 60"],
      env: { ANTHROPIC_API_KEY: MODEL_KEY }
    })
    const git = (...args: Array<string>) => spawnSync("git", args, { cwd: p.root, encoding: "utf8" })
    const bare = mkdtempSync(join(tmpdir(), "e2e-remote-"))
    spawnSync("git", ["init", "-q", "--bare", bare])
    git("remote", "add", "origin", bare)
    writeFileSync(join(p.root, "tools/leaky-agent.mjs"), AGENT)
    writeFileSync(
      join(p.root, "gate.policy.yaml"),
      [
        "conditions:",
        ...[
          "spec_exists",
          "spec_approved",
          "within_boundaries",
          "builder",
          "verification",
          "review",
          "human_acceptance",
          "secrets"
        ].map((c) => `  ${c}: { required: true }`),
        "profiles:",
        "  e2e:",
        "    disable: [review, human_acceptance]",
        ""
      ].join("\n")
    )
    git("add", "-A")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "leaky agent and a policy with secrets")
    p.issue("LEAK-1", { builder_prompt: "Configure the client." })

    const r = p.cli("run", "LEAK-1", "--auto-approve", "--publish=always", "--json")
    assert.strictEqual(r.status, 1, r.stderr)
    const out = JSON.parse(r.stdout) as { status: string; failed: Array<string> }
    assert.strictEqual(out.status, "blocked")
    assert.include(out.failed, "secrets")

    const stateDir = join(p.root, ".spec-orch")
    const explain = readFileSync(join(stateDir, "runs/LEAK-1-r1/explain.md"), "utf8")
    assert.match(explain, /secrets.*config\/model\.env:1 \(spec-orch\/env-value\).*src\/config\.ts:3 \(github\)/)
    assert.match(explain, /remove the secrets from config\/model\.env:1, src\/config\.ts:3, rotate them, re-run/)
    assert.include(readFileSync(join(stateDir, "runs/LEAK-1-r1/diff.patch"), "utf8"), "[redacted:github-token]")

    const published = JSON.parse(readFileSync(join(stateDir, "runs/LEAK-1-r1/publish.json"), "utf8")) as {
      mode: string
      reason?: string
      push?: unknown
    }
    assert.strictEqual(published.mode, "local")
    assert.isUndefined(published.push)
    assert.match(published.reason ?? "", /not pushed and no pull request: the change adds a secret/)
    assert.strictEqual(
      spawnSync("git", ["--git-dir", bare, "for-each-ref", "refs/heads"], { encoding: "utf8" }).stdout,
      "",
      "nothing was pushed"
    )

    // The read commands that show a run's text (and retro, which writes a file the sweep below reads).
    const reads = [
      ["logs", "LEAK-1"],
      ["explain", "LEAK-1"],
      ["status", "LEAK-1", "--json"],
      ["watch", "LEAK-1", "--once", "--json"],
      ["trace", "show", "LEAK-1-r1"],
      ["memory", "recall", "key", "--json"],
      ["memory", "list", "--all", "--json"],
      ["evidence", "summary", "--json"],
      ["retro", "LEAK-1"]
    ].map((args) => {
      const c = p.cli(...args)
      assert.strictEqual(c.status, 0, `${args.join(" ")}: ${c.stderr}`)
      return c.stdout + c.stderr
    })
    assert.isTrue(existsSync(join(stateDir, "runs/LEAK-1-r1/retrospective.md")))
    const shown = [r.stdout, r.stderr, ...reads]
    for (const text of shown) {
      assert.notInclude(text, MODEL_KEY)
      assert.notInclude(text, GITHUB_TOKEN)
    }
    const checked = filesUnder(stateDir).filter((f) => !NOT_YET_REDACTED.test(relative(stateDir, f)))
    assert.isTrue(
      checked.some((f) => f.endsWith("state.db")) &&
        checked.some((f) => f.endsWith("evidence.json")) &&
        checked.some((f) => f.endsWith("prompt.md"))
    )
    for (const file of checked) {
      const bytes = readFileSync(file, "latin1")
      assert.notInclude(bytes, MODEL_KEY, relative(stateDir, file))
      assert.notInclude(bytes, GITHUB_TOKEN, relative(stateDir, file))
    }
  })
})
