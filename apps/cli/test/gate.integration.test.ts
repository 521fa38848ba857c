/**
 * The gate an agent cannot empty, end to end with the real binary, real git and real processes:
 * configuration problems are reported before any work; a hostile `command` agent that edits the
 * test script, deletes a test or rewrites spec-orch's configuration on its branch is blocked by
 * `protected_paths` (and changes neither the commands run nor the policy); new tests stay free; a
 * human's acceptance of the exact diff unblocks; `[preview]` records the evidence `preview` judges;
 * `rerun` re-verifies and re-gates a run that never wrote evidence; the quick start stays mergeable.
 */
import { assert, describe, it } from "@effect/vitest"
import { spawnSync } from "node:child_process"
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { BIN, makeProject, type TestProject, waitFor } from "./utils/project.js"

const json = (text: string) => JSON.parse(text) as Record<string, any>
const exited = (child: import("node:child_process").ChildProcess) =>
  new Promise<void>((resolve) => child.on("exit", () => resolve()))

/** A hostile stand-in agent, committed in the repository so it runs from the worktree: every prompt line `RUN <shell>` runs there. */
const HOSTILE = `
import { execSync } from "node:child_process"
import { readFileSync } from "node:fs"
for (const line of readFileSync(0, "utf8").split("\\n")) {
  const m = /^RUN (.*)$/.exec(line.trim())
  if (m) execSync(m[1], { stdio: "inherit" })
}
console.log(JSON.stringify({ type: "result", text: "done" }))
`

/** A Node project (package.json with a test script, a source file and its test) whose agent is HOSTILE. */
const nodeProject = (options: { readonly verification?: Record<string, string> } = {}): TestProject => {
  const p = makeProject({
    verification: options.verification ?? { test: "npm test --silent" },
    builder: ['adapter = "command"', 'command = ["node", "tools/hostile.mjs"]', "timeout_seconds = 60"]
  })
  const files: Record<string, string> = {
    "tools/hostile.mjs": HOSTILE,
    "package.json": `${JSON.stringify({ name: "shop", version: "1.0.0", private: true, type: "module", scripts: { test: "node --test test/" } }, null, 2)}\n`,
    "src/cart.js": "export const total = (items) => items.reduce((s, i) => s + i, 0)\n",
    "test/cart.test.js":
      'import { test } from "node:test"\nimport assert from "node:assert/strict"\nimport { total } from "../src/cart.js"\ntest("sums", () => assert.equal(total([1, 2]), 3))\n'
  }
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(join(p.root, rel, ".."), { recursive: true })
    writeFileSync(join(p.root, rel), text)
  }
  const git = (...args: Array<string>) =>
    spawnSync("git", ["-c", "user.name=t", "-c", "user.email=t@t", ...args], { cwd: p.root, encoding: "utf8" })
  git("add", "-A")
  git("commit", "-qm", "a node project")
  return p
}

/** The verdict's condition `name` from `run --json`'s record, as [status, reason]. */
const condition = (p: TestProject, issue: string, name: string) => {
  const report = json(readFileSync(join(p.root, `.spec-orch/runs/${issue}-r1/report.json`), "utf8"))
  const c = (report.conditions as Array<any>).find((x) => x.condition === name)
  return [c?.status, c?.reason] as [string, string]
}

describe("fail before work", () => {
  it("refuses an unknown profile, a typo in [gate] profile and an invalid policy before anything is created (exit 2)", () => {
    const p = makeProject()
    p.issue("PRE-1", { builder_prompt: "WRITE a.txt a" })
    const worktrees = /root = "(.*)"/.exec(p.read("spec-orch.toml"))![1]!
    const nothingCreated = () => {
      assert.isFalse(existsSync(join(p.root, ".spec-orch")), "no state directory, no run record")
      assert.deepStrictEqual(p.agentRuns(), [], "no agent ran")
      assert.deepStrictEqual(readdirSync(worktrees), [], "no worktree")
    }

    const nope = p.cli("run", "PRE-1", "--auto-approve", "--profile", "nope")
    assert.strictEqual(nope.status, 2, nope.stderr)
    assert.strictEqual(
      nope.stderr,
      'spec-orch: cannot run PRE-1: the gate could not judge it. unknown gate profile "nope" in gate.policy.yaml (profiles in this policy: e2e, reviewed, daemon, ci, strict, hotfix, unattended)\n' +
        "Nothing was started. Pass a profile the policy defines (`spec-orch gate profiles` lists them).\n"
    )
    nothingCreated()

    writeFileSync(
      join(p.root, "spec-orch.toml"),
      p.read("spec-orch.toml").replace('profile = "e2e"', 'profile = "e2f"')
    )
    const typo = p.cli("run", "PRE-1", "--auto-approve")
    assert.strictEqual(typo.status, 2)
    assert.include(typo.stderr, 'unknown gate profile "e2f" in gate.policy.yaml (did you mean "e2e"?)')
    assert.include(typo.stderr, "Fix `[gate] profile` in spec-orch.toml")
    assert.strictEqual(p.cli("rerun", "PRE-1").status, 2, "rerun checks first too")
    nothingCreated()

    writeFileSync(
      join(p.root, "spec-orch.toml"),
      p.read("spec-orch.toml").replace('profile = "e2f"', 'profile = "e2e"')
    )
    writeFileSync(
      join(p.root, "gate.policy.yaml"),
      p.read("gate.policy.yaml").replace("builder: { required: true }", "builder: { required: maybe }")
    )
    const bad = p.cli("run", "PRE-1", "--auto-approve")
    assert.strictEqual(bad.status, 2)
    assert.match(
      bad.stderr,
      /^spec-orch: cannot run PRE-1: the gate could not judge it\. gate\.policy\.yaml has 1 problem:\n {2}gate\.policy\.yaml:5:\d+: error: conditions\.builder\.required: /
    )
    assert.include(bad.stderr, "Fix the gate policy (`spec-orch config check` shows every problem), then run again.")
    nothingCreated()
  })

  it("refuses to start the daemon when [daemon] gate_profile is not in the policy", () => {
    const p = makeProject({ toml: '[daemon]\ngate_profile = "nightly"\n' })
    const r = p.cli("daemon", "start", "--once")
    assert.strictEqual(r.status, 2, r.stderr)
    assert.include(r.stderr, 'cannot start the daemon: the gate could not judge it. unknown gate profile "nightly"')
    assert.isFalse(existsSync(join(p.root, ".spec-orch")))
  })
})

describe("protected paths against a hostile agent", () => {
  it("blocks an agent that changes package.json's test script to `echo ok`, though verification then passes", () => {
    const p = nodeProject()
    p.issue("HOST-1", { builder_prompt: "RUN sed -i 's#node --test test/#echo ok#' package.json" })
    const r = p.cli("run", "HOST-1", "--auto-approve", "--json")
    assert.strictEqual(r.status, 1, r.stderr)
    const out = json(r.stdout)
    assert.deepStrictEqual([out.status, out.failed], ["blocked", ["protected_paths"]])
    assert.deepStrictEqual(
      condition(p, "HOST-1", "verification")[0],
      "passed",
      "the emptied test script passes: only the gate stands in the way"
    )
    assert.deepStrictEqual(condition(p, "HOST-1", "protected_paths"), [
      "failed",
      "the agent changed 1 protected file the issue does not name: package.json (a verification definition, scripts.test changed)"
    ])
  })

  it("blocks an agent that deletes an existing test; a human's acceptance of that exact diff unblocks it", () => {
    const p = nodeProject()
    p.issue("HOST-2", { builder_prompt: "RUN rm test/cart.test.js\nRUN echo 'export const none = 0' > src/none.js" })
    const r = p.cli("run", "HOST-2", "--auto-approve", "--json")
    assert.strictEqual(r.status, 1, r.stderr)
    assert.deepStrictEqual(json(r.stdout).failed, ["protected_paths"])
    const [status, reason] = condition(p, "HOST-2", "protected_paths")
    assert.deepStrictEqual(
      [status, reason],
      [
        "failed",
        "the agent changed 1 protected file the issue does not name: test/cart.test.js (an existing test, deleted)"
      ]
    )

    const accepted = p.cli("accept-issue", "HOST-2", "--accepted-by", "dana")
    assert.strictEqual(accepted.status, 0, accepted.stderr + accepted.stdout)
    assert.include(
      accepted.stdout,
      "Protected files the agent changed (accepting this diff accepts them):\n  test/cart.test.js: an existing test, deleted\n",
      "the person sees what they accept first"
    )
    assert.match(accepted.stdout, /HOST-2: MERGEABLE/)
    assert.match(
      accepted.stdout,
      /protected_paths +required +1 protected file changed and dana accepted this exact diff: test\/cart\.test\.js \(an existing test, deleted\)/
    )
    assert.strictEqual(p.cli("gate", "evaluate", "HOST-2").status, 0)
  })

  it("blocks an agent that rewrites gate.policy.yaml and spec-orch.toml on its branch; neither changes the policy or the commands run", () => {
    const p = nodeProject({
      verification: { check: "echo checked by the main checkout's config && test -f src/feature.js" }
    })
    const lax = "conditions:\\n  builder: { required: true }\\nprofiles:\\n  e2e:\\n    disable: [protected_paths]\\n"
    p.issue("HOST-3", {
      builder_prompt: [
        `RUN printf '${lax}' > gate.policy.yaml`,
        "RUN sed -i 's#^check = .*#check = \"echo checked by the agent\"#' spec-orch.toml"
      ].join("\n")
    })
    const r = p.cli("run", "HOST-3", "--auto-approve", "--json")
    assert.strictEqual(r.status, 1, r.stderr)
    const out = json(r.stdout)
    assert.sameMembers(out.failed, ["verification", "protected_paths"])
    // The branch really holds the agent's files…
    assert.include(readFileSync(join(out.worktree, "gate.policy.yaml"), "utf8"), "disable: [protected_paths]")
    // …but the commands came from the main checkout's spec-orch.toml, and the policy from its gate.policy.yaml.
    const evidence = json(readFileSync(join(p.root, ".spec-orch/runs/HOST-3-r1/evidence.json"), "utf8"))
    assert.deepStrictEqual(
      evidence.verification.steps.map((s: any) => s.command.at(-1)),
      ["echo checked by the main checkout's config && test -f src/feature.js"]
    )
    const report = json(readFileSync(join(p.root, ".spec-orch/runs/HOST-3-r1/report.json"), "utf8"))
    assert.includeMembers(
      report.conditions.map((c: any) => c.condition),
      ["spec_exists", "within_boundaries", "verification"],
      "the main checkout's policy"
    )
    assert.deepStrictEqual(condition(p, "HOST-3", "protected_paths"), [
      "failed",
      "the agent changed 2 protected files the issue does not name: gate.policy.yaml (spec-orch's own configuration, changed), spec-orch.toml (spec-orch's own configuration, changed)"
    ])
  })

  it("keeps an agent that only adds a new test (and bumps the version) mergeable", () => {
    const p = nodeProject()
    p.issue("HOST-4", {
      builder_prompt: [
        'RUN printf \'import { test } from "node:test"\\nimport assert from "node:assert/strict"\\nimport { total } from "../src/cart.js"\\ntest("empty", () => assert.equal(total([]), 0))\\n\' > test/empty.test.js',
        'RUN sed -i \'s#"version": "1.0.0"#"version": "1.1.0"#\' package.json'
      ].join("\n")
    })
    const r = p.cli("run", "HOST-4", "--auto-approve", "--json")
    assert.strictEqual(r.status, 0, r.stderr + r.stdout)
    assert.deepStrictEqual(condition(p, "HOST-4", "protected_paths"), [
      "passed",
      "no protected file changed outside the issue's targets"
    ])
    const evidence = json(readFileSync(join(p.root, ".spec-orch/runs/HOST-4-r1/evidence.json"), "utf8"))
    assert.deepStrictEqual(evidence.fileChanges, [
      { path: "package.json", status: "M", changedKeys: ["version"] },
      { path: "test/empty.test.js", status: "A" }
    ])
  })
})

describe("spec-orch rerun", () => {
  it("re-verifies and re-gates a run that never wrote evidence, reusing its agent outcome", async () => {
    const p = makeProject()
    // The step runs boxed, where the main checkout is hidden: it logs to the signals directory.
    const marker = p.signal("verify-log")
    p.issue("RE-1", {
      builder_prompt: "WRITE out.txt 1",
      verification: { slow: `echo run >> ${marker}; sleep 2; test -f out.txt` }
    })
    const first = p.spawn("run", "RE-1", "--auto-approve")
    await waitFor(() => existsSync(marker))
    assert.isNotEmpty(p.agentsRunning(), "the step is running")
    first.kill("SIGKILL")
    await exited(first)
    // The boxed step dies with spec-orch: nothing is left working in the worktree.
    await waitFor(() => p.agentsRunning().length === 0, 5_000)
    assert.isFalse(
      existsSync(join(p.root, ".spec-orch/runs/RE-1-r1/evidence.json")),
      "the first run ended before its gate"
    )

    // The policy breaks in the meantime: resuming is refused before any work, with exit 2.
    const policy = p.read("gate.policy.yaml")
    writeFileSync(join(p.root, "gate.policy.yaml"), "conditions:\n  buildr: {}\n")
    const refused = p.cli("run", "RE-1")
    assert.strictEqual(refused.status, 2)
    assert.include(refused.stderr, 'unknown condition "buildr" (did you mean "builder"?)')

    writeFileSync(join(p.root, "gate.policy.yaml"), policy)
    const again = p.cli("rerun", "RE-1", "--json")
    assert.strictEqual(again.status, 0, again.stderr)
    // The JSON document only: the cluster may log a warning about the first attempt, still parked, after it.
    const out = json(again.stdout.slice(0, again.stdout.indexOf("\n}\n") + 2))
    assert.deepStrictEqual([out.runId, out.status], ["RE-1-r2", "succeeded"])
    assert.strictEqual(p.agentRuns().length, 1, "the agent did not run again")
    assert.strictEqual(readFileSync(marker, "utf8").trim().split("\n").length, 2, "verification ran again")
    const log = p.cli("logs", "RE-1", "--json").stdout.trim().split("\n").map(json)
    assert.isTrue(
      log.some((e) => e.kind === "note" && /reusing the outcome of RE-1-r1 \(completed\)/.test(e.data.text))
    )
  })

  it("re-gates under the profile the run was judged with, not the project's default, unless --profile says otherwise", () => {
    const p = makeProject()
    p.issue("RE-2", { builder_prompt: "WRITE out.txt 2" })
    const first = p.cli("run", "RE-2", "--auto-approve", "--profile", "reviewed", "--json")
    assert.strictEqual(first.status, 1, "blocked: nobody reviewed it")
    const again = p.cli("rerun", "RE-2", "--json")
    assert.strictEqual(again.status, 1, again.stdout)
    const verdictOf = (run: string) =>
      json(readFileSync(join(p.root, `.spec-orch/runs/${run}/report.json`), "utf8")).verdict
    assert.strictEqual(verdictOf("RE-2-r2").profile, "reviewed")
    assert.isFalse(verdictOf("RE-2-r2").mergeable)
    const chosen = p.cli("rerun", "RE-2", "--profile", "e2e", "--json")
    assert.strictEqual(chosen.status, 0, chosen.stderr)
    assert.strictEqual(verdictOf("RE-2-r3").profile, "e2e")
  })
})

describe("[preview]", () => {
  /** A project whose policy requires builder, verification and preview (as `strict` does). */
  const previewProject = (toml: string) => {
    const p = makeProject({ profile: "preview", toml })
    writeFileSync(
      join(p.root, "gate.policy.yaml"),
      "conditions:\n  builder: {}\n  verification: {}\n  preview: { required: false }\nprofiles:\n  preview:\n    enable: [preview]\n"
    )
    return p
  }

  it("runs the preview command in the worktree after verification and records it as the evidence the gate judges", () => {
    const p = previewProject(
      '[preview]\ncommand = "test -f site/index.html && echo preview ok"\nurl = "http://localhost:4173"\n'
    )
    p.issue("PV-1", { builder_prompt: "WRITE site/index.html <h1>hi</h1>" })
    const ok = p.cli("run", "PV-1", "--auto-approve", "--json")
    assert.strictEqual(ok.status, 0, ok.stderr + ok.stdout)
    assert.deepStrictEqual(condition(p, "PV-1", "preview"), [
      "passed",
      "the preview check passed (preview passed) (http://localhost:4173)"
    ])
    const evidence = json(readFileSync(join(p.root, ".spec-orch/runs/PV-1-r1/evidence.json"), "utf8"))
    assert.deepStrictEqual(
      [evidence.preview.required, evidence.preview.passed, evidence.preview.step.outcome],
      [true, true, "passed"]
    )
    assert.match(readdirSync(join(p.root, ".spec-orch/runs/PV-1-r1/preview")).join(","), /01-preview\.log/)

    p.issue("PV-2", { builder_prompt: "WRITE site/other.html nothing" })
    const failed = p.cli("run", "PV-2", "--auto-approve", "--json")
    assert.strictEqual(failed.status, 1)
    assert.deepStrictEqual(json(failed.stdout).failed, ["preview"])
  })

  it("without [preview] a profile that requires it cannot judge it, and says how to configure it", () => {
    const p = previewProject("")
    p.issue("PV-3", { builder_prompt: "WRITE a.txt a" })
    const r = p.cli("run", "PV-3", "--auto-approve", "--json")
    assert.strictEqual(r.status, 1)
    assert.deepStrictEqual(json(r.stdout).notJudgeable, ["preview"])
    const report = json(readFileSync(join(p.root, ".spec-orch/runs/PV-3-r1/report.json"), "utf8"))
    assert.match(
      report.conditions.find((c: any) => c.condition === "preview").unblock,
      /^configure the preview check: \[preview\] command in spec-orch\.toml/
    )
  })
})

describe("the quick start", () => {
  it("stays mergeable: its agent edits the test file HELLO-1 names", () => {
    const dir = mkdtempSync(join(tmpdir(), "quickstart-"))
    cpSync(join(import.meta.dirname, "../../../examples/hello-node"), dir, { recursive: true })
    rmSync(join(dir, ".spec-orch"), { recursive: true, force: true })
    writeFileSync(
      join(dir, "spec-orch.toml"),
      `${readFileSync(join(dir, "spec-orch.toml"), "utf8")}\n[workspace]\nroot = ${JSON.stringify(mkdtempSync(join(tmpdir(), "quickstart-wt-")))}\n`
    )
    const git = (...args: Array<string>) =>
      spawnSync("git", ["-c", "user.name=q", "-c", "user.email=q@q", ...args], { cwd: dir, encoding: "utf8" })
    git("init", "-q")
    git("add", "-A")
    git("commit", "-qm", "hello-node example")
    const r = spawnSync(process.execPath, [BIN, "run", "HELLO-1", "--auto-approve", "--json"], {
      cwd: dir,
      encoding: "utf8",
      timeout: 120_000
    })
    assert.strictEqual(r.status, 0, r.stderr + r.stdout)
    const report = json(readFileSync(join(dir, ".spec-orch/runs/HELLO-1-r1/report.json"), "utf8"))
    const c = report.conditions.find((x: any) => x.condition === "protected_paths")
    assert.deepStrictEqual(
      [c.status, c.required, c.reason],
      [
        "passed",
        true,
        "no protected file changed outside the issue's targets (1 protected file named by the issue: test/greet.test.js)"
      ]
    )
  })
})
