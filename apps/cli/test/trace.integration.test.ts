/**
 * Traces of runs with the real binary: the quick start's run leaves its span tree in
 * `.spec-orch/runs/<id>/trace.jsonl` and `trace show` prints it; a failed verification step is marked;
 * a resumed run appends to the same file; with `[telemetry] otlp_endpoint` the same spans reach an
 * OTLP/HTTP receiver on 127.0.0.1, with the configured header and without its value in any artifact.
 */
import { assert, describe, it } from "@effect/vitest"
import { spawn, spawnSync } from "node:child_process"
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs"
import { createServer, type IncomingHttpHeaders } from "node:http"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { startFakeGitHub, startModelServer } from "@spec-orch/test-kit"
import { BIN, makeProject, waitFor } from "./utils/project.js"

const STAGES = [
  "load",
  "spec",
  "workspace",
  "context",
  "agent",
  "commit",
  "verify",
  "review",
  "gate",
  "record",
  "publish"
]

/** The quick start's project (examples/hello-node) in a fresh repository, with `toml` appended to its spec-orch.toml. */
const quickStart = (toml = "") => {
  const dir = mkdtempSync(join(tmpdir(), "trace-quickstart-"))
  cpSync(join(import.meta.dirname, "../../../examples/hello-node"), dir, { recursive: true })
  rmSync(join(dir, ".spec-orch"), { recursive: true, force: true })
  writeFileSync(
    join(dir, "spec-orch.toml"),
    `${readFileSync(join(dir, "spec-orch.toml"), "utf8")}\n[workspace]\nroot = ${JSON.stringify(mkdtempSync(join(tmpdir(), "trace-wt-")))}\n${toml}`
  )
  const git = (...args: Array<string>) =>
    spawnSync("git", ["-c", "user.name=q", "-c", "user.email=q@q", ...args], { cwd: dir, encoding: "utf8" })
  git("init", "-q")
  git("add", "-A")
  git("commit", "-qm", "hello-node example")
  return dir
}

const cli = (cwd: string, ...args: Array<string>) =>
  spawnSync(process.execPath, [BIN, ...args], { cwd, encoding: "utf8", timeout: 120_000 })

/** Every file under `dir`, recursively. */
const filesUnder = (dir: string): Array<string> =>
  readdirSync(dir).flatMap((name) => {
    const p = join(dir, name)
    return statSync(p).isDirectory() ? filesUnder(p) : [p]
  })

/** An OTLP/HTTP receiver on 127.0.0.1 that keeps every post. */
const receiver = async () => {
  const posts: Array<{ path: string; headers: IncomingHttpHeaders; text: string; body: any }> = []
  const server = createServer((req, res) => {
    let text = ""
    req.on("data", (d) => (text += d))
    req.on("end", () => {
      posts.push({ path: req.url ?? "", headers: req.headers, text, body: JSON.parse(text) })
      res.writeHead(200, { "content-type": "application/json" }).end("{}")
    })
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const spans = () =>
    posts.flatMap((p) => p.body.resourceSpans.flatMap((r: any) => r.scopeSpans.flatMap((s: any) => s.spans)))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    posts,
    spans,
    close: () => server.close()
  }
}

describe("spec-orch trace show", () => {
  it("prints the quick start run's stages in order, with durations, from the run's trace.jsonl", () => {
    const dir = quickStart()
    const r = cli(dir, "run", "HELLO-1", "--auto-approve", "--json")
    assert.strictEqual(r.status, 0, r.stderr + r.stdout)
    const file = readFileSync(join(dir, ".spec-orch/runs/HELLO-1-r1/trace.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l))
    const run = file.find((s) => s.name === "Run")
    assert.deepStrictEqual(
      [run.attributes["run.id"], run.attributes["issue.id"], run.status],
      ["HELLO-1-r1", "HELLO-1", "ok"]
    )
    assert.isTrue(file.every((s) => s.traceId && s.spanId && s.start && s.end && typeof s.durationMs === "number"))

    const shown = cli(dir, "trace", "show", "HELLO-1-r1")
    assert.strictEqual(shown.status, 0, shown.stderr)
    const lines = shown.stdout.split("\n")
    assert.match(lines[0]!, /^trace of HELLO-1-r1 · HELLO-1 \(\d+ spans/)
    // The stages hang under the run, one indent below it, in the order they ran, each with a duration.
    const runAt = lines.findIndex((l) => /^\s*✓ Run\b/.test(l))
    assert.isAtLeast(runAt, 0, shown.stdout)
    const depth = lines[runAt]!.search(/\S/) + 2
    const stages = lines
      .slice(runAt + 1)
      .filter((l) => l.search(/\S/) === depth && STAGES.some((s) => new RegExp(`^\\s*✓ ${s}\\s`).test(l)))
    assert.deepStrictEqual(
      stages.map((l) => l.trim().split(/\s+/)[1]),
      STAGES,
      shown.stdout
    )
    for (const l of stages) assert.match(l, /\s(<1ms|\d+ms|\d+\.\ds)$/, l)
    // Below the stages: the agent's turn with its adapter, the verification step by name.
    assert.match(shown.stdout, /✓ Agents\.run \(adapter=command, outcome=completed\)/)
    assert.match(shown.stdout, /✓ Verifier\.step \(step=test, outcome=passed, exit_code=0\)/)
    assert.notMatch(shown.stdout, /sqlite/, "database spans only with --all")
    assert.match(cli(dir, "trace", "show", "HELLO-1-r1", "--all").stdout, /sqlite/)

    const json = JSON.parse(cli(dir, "trace", "show", "HELLO-1-r1", "--json").stdout)
    const root = json.spans.find((s: any) => s.name === "Runs.start")
    assert.strictEqual(root.children.find((c: any) => c.name === "SpecOrchRun.execute")?.name, "SpecOrchRun.execute")
    const runNode = JSON.stringify(json).includes('"name":"Run"')
    assert.isTrue(runNode)
  })

  it("marks a failed verification step ✗ and says clearly when a run id is wrong", () => {
    const p = makeProject()
    p.issue("TR-2", {
      builder_prompt: "WRITE src/a.txt a",
      verification: { unit: "echo 'expected 2 but got 3' >&2; exit 3" }
    })
    assert.strictEqual(p.cli("run", "TR-2", "--auto-approve").status, 1)
    const shown = p.cli("trace", "show", "TR-2-r1")
    assert.strictEqual(shown.status, 0, shown.stderr)
    assert.match(shown.stdout, /✗ Verifier\.step \(step=unit, outcome=failed, exit_code=3\)/)
    assert.match(shown.stdout, /✓ verify\b/, "the stage itself ended normally: the gate judges the failure")

    const wrong = p.cli("trace", "show", "TR-2")
    assert.strictEqual(wrong.status, 1)
    assert.include(wrong.stderr, "spec-orch: no run TR-2 in ")
    assert.include(wrong.stderr, "runs here: TR-2-r1")
    assert.include(wrong.stderr, "e.g. TR-2-r1")
    const traversal = p.cli("trace", "show", "../../etc")
    assert.strictEqual(traversal.status, 1)
    assert.match(traversal.stderr, /"\.\.\/\.\.\/etc" is not a run id/)
  })
})

describe("model calls in a trace", () => {
  it("shows the LLM reviewer's request to the model under the review stage, with the model and its tokens", async () => {
    const server = await startModelServer({
      script: () => ({ tool: { name: "review", input: { verdict: "pass", summary: "fine", findings: [] } } })
    })
    try {
      const p = makeProject({
        profile: "reviewed",
        toml: [
          "[reviewer]",
          'adapter = "llm"',
          'model_ref = "double"',
          "[models.double]",
          'model = "double-model"',
          'api_type = "anthropic"',
          'api_key_env = "DOUBLE_KEY"',
          'api_base_env = "DOUBLE_BASE"'
        ].join("\n"),
        env: { DOUBLE_KEY: "sk-test-double-0123456789", DOUBLE_BASE: server.url }
      })
      p.issue("TR-9", { builder_prompt: "WRITE src/a.txt a", target_files: ["src/"] })
      const r = await p.cliAsync("run", "TR-9", "--auto-approve")
      assert.strictEqual(r.status, 0, r.stderr)
      const shown = p.cli("trace", "show", "TR-9-r1").stdout
      const review = shown.split("\n").findIndex((l) => /^\s+✓ review\s/.test(l))
      const call = shown.split("\n").findIndex((l) => /✓ Model\.call \(model=double\)/.test(l))
      assert.isAbove(review, 0, shown)
      assert.isAbove(call, review, "the call is under the review stage")
      const spans = p
        .read(".spec-orch/runs/TR-9-r1/trace.jsonl")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l))
      const model = spans.filter((s) => s.name === "Model.call")
      assert.strictEqual(model.length, 1)
      assert.deepInclude(model[0].attributes, {
        model: "double",
        "model.name": "double-model",
        "model.api": "anthropic",
        role: "reviewer",
        attempt: 1
      })
      assert.isAbove(model[0].attributes["model.input_tokens"], 0)
      assert.notInclude(p.read(".spec-orch/runs/TR-9-r1/trace.jsonl"), "sk-test-double-0123456789")
    } finally {
      await server.close()
    }
  })
})

describe("tracker calls in a trace", () => {
  it("shows the GitHub call that loaded the issue under the load stage, without the token", async () => {
    const github = await startFakeGitHub()
    try {
      github.addRepo("acme/widgets")
      const number = github.addIssue("acme/widgets", { title: "Add a.txt", body: "## Builder prompt\nWRITE a.txt a\n" })
      const p = makeProject({
        toml: [
          "[issue]",
          'source = "github"',
          "[github]",
          'repo = "acme/widgets"',
          `api_url = ${JSON.stringify(github.url)}`
        ].join("\n"),
        env: { GITHUB_TOKEN: github.token }
      })
      const r = await p.cliAsync("run", `GH-${number}`, "--auto-approve")
      assert.strictEqual(r.status, 0, r.stderr)
      const shown = p.cli("trace", "show", `GH-${number}-r1`).stdout.split("\n")
      const load = shown.findIndex((l) => /^\s+✓ load\s/.test(l))
      const call = shown.findIndex((l) => /✓ GitHub\.getIssue\s/.test(l))
      assert.isAbove(load, 0, shown.join("\n"))
      assert.isAbove(call, load, shown.join("\n"))
      assert.isBelow(
        call,
        shown.findIndex((l) => /^\s+✓ spec\s/.test(l)),
        "under load, before spec"
      )
      assert.notInclude(p.read(`.spec-orch/runs/GH-${number}-r1/trace.jsonl`), github.token)
    } finally {
      await github.close()
    }
  })
})

describe("traces across a crash", () => {
  it("a run resumed after kill -9 appends to the same trace.jsonl: the first process's finished stages, then the resumed one", async () => {
    const p = makeProject()
    const marker = p.signal("verify-log")
    const fast = p.signal("fast")
    p.issue("TR-5", {
      builder_prompt: "WRITE out.txt 1",
      verification: { slow: `echo run >> ${marker}; [ -f ${fast} ] || sleep 30; test -f out.txt` }
    })
    const first = p.spawn("run", "TR-5", "--auto-approve")
    await waitFor(() => existsSync(marker) && p.agentsRunning().length > 0)
    first.kill("SIGKILL")
    await new Promise((resolve) => first.on("exit", resolve))
    await waitFor(() => p.agentsRunning().length === 0, 5_000)
    const file = join(p.root, ".spec-orch/runs/TR-5-r1/trace.jsonl")
    const before = readFileSync(file, "utf8")
    writeFileSync(fast, "")
    assert.strictEqual(p.cli("run", "TR-5", "--json").status, 0)
    const after = readFileSync(file, "utf8")
    assert.isTrue(after.startsWith(before), "appended, not rewritten")
    const spans = after
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l))
    const count = (name: string) => spans.filter((s) => s.name === name).length
    assert.strictEqual(count("Agents.run"), 1, "the agent ran once: the resumed run did not repeat it")
    assert.strictEqual(count("Verifier.step"), 1, "the killed step's span never ended; the resumed step's did")
    assert.strictEqual(count("Run"), 1, "the killed process's Run never ended; the resumed one did")
    assert.strictEqual(spans.find((s) => s.name === "Runs.start").attributes["run.resumed"], true)
    // The workflow keeps its trace across the crash: the resumed Run continues the first process's trace.
    const firstAgent = spans.find((s) => s.name === "Agents.run")
    assert.strictEqual(spans.find((s) => s.name === "Run").traceId, firstAgent.traceId)
    const shown = p.cli("trace", "show", "TR-5-r1")
    assert.strictEqual(shown.status, 0, shown.stderr)
    assert.match(shown.stdout, /✓ Agents\.run/)
    assert.match(shown.stdout, /✓ Runs\.start \(adapter=command\)/)
    assert.match(shown.stdout, /✓ Verifier\.step \(step=slow, outcome=passed, exit_code=0\)/)
  })
})

describe("[telemetry] OTLP export", () => {
  it("config check names a bad [telemetry] key with its line; doctor says where traces go and which header variable is unset", () => {
    const dir = quickStart(
      `\n[telemetry]\notlp_endpoint = "127.0.0.1:4318"\nheaders_env = { "x-key" = "not a variable" }\n`
    )
    const bad = cli(dir, "config", "check", "--json")
    assert.strictEqual(bad.status, 1, bad.stdout)
    const problems = JSON.parse(bad.stdout).problems.map((p: any) => [p.key, p.severity, p.message])
    assert.deepInclude(
      problems.map((p: any) => p.slice(0, 2)),
      ["telemetry.otlp_endpoint", "error"]
    )
    assert.deepInclude(
      problems.map((p: any) => p.slice(0, 2)),
      ["telemetry.headers_env.x-key", "error"]
    )
    assert.isTrue(
      problems.some((p: any) => /http:\/\/127\.0\.0\.1:4318/.test(p[2])),
      JSON.stringify(problems)
    )

    const none = JSON.parse(cli(quickStart(), "doctor", "--json").stdout).checks.find((c: any) => c.name === "traces")
    assert.deepStrictEqual(
      [none.status, none.detail],
      ["ok", "to each run's trace.jsonl (no OTLP collector: [telemetry] otlp_endpoint is not set)"]
    )
    const unset = quickStart(
      `\n[telemetry]\notlp_endpoint = "http://127.0.0.1:4318"\nheaders_env = { "x-key" = "TRACE_TEST_UNSET_KEY" }\n`
    )
    const traces = JSON.parse(cli(unset, "doctor", "--json").stdout).checks.find((c: any) => c.name === "traces")
    assert.strictEqual(traces.status, "warn")
    assert.include(
      traces.detail,
      "exported to http://127.0.0.1:4318 as spec-orch, but TRACE_TEST_UNSET_KEY (header x-key) is not set"
    )
  })

  it("sends a run's spans to an OTLP/HTTP receiver with the header from the environment, and keeps the file", async () => {
    const otlp = await receiver()
    const secret = "otlp-secret-value-7f3a9c"
    try {
      const dir = quickStart(
        `\n[telemetry]\notlp_endpoint = "${otlp.url}"\nservice_name = "trace-test"\nheaders_env = { "x-collector-key" = "TRACE_TEST_COLLECTOR_KEY" }\n`
      )
      const child = spawn(process.execPath, [BIN, "run", "HELLO-1", "--auto-approve", "--json"], {
        cwd: dir,
        env: { ...process.env, TRACE_TEST_COLLECTOR_KEY: secret },
        stdio: ["ignore", "pipe", "pipe"]
      })
      let stderr = ""
      child.stderr!.on("data", (d) => (stderr += d))
      const code = await new Promise<number | null>((resolve) => child.on("exit", resolve))
      assert.strictEqual(code, 0, stderr)

      assert.isAbove(otlp.posts.length, 0, "the exporter posted")
      assert.isTrue(
        otlp.posts.every((p) => p.path === "/v1/traces"),
        otlp.posts.map((p) => p.path).join(",")
      )
      assert.isTrue(otlp.posts.every((p) => p.headers["x-collector-key"] === secret))
      const spans = otlp.spans()
      const names = new Set(spans.map((s: any) => s.name))
      for (const name of ["Runs.start", "Run", ...STAGES, "Agents.run", "Verifier.step"])
        assert.isTrue(names.has(name), `${name} exported`)
      const service = otlp.posts[0]!.body.resourceSpans[0].resource.attributes.find(
        (a: any) => a.key === "service.name"
      )
      assert.strictEqual(service.value.stringValue, "trace-test")
      // The run's attribute arrives too, and the file has the same spans.
      const run = spans.find((s: any) => s.name === "Run")
      assert.strictEqual(run.attributes.find((a: any) => a.key === "run.id").value.stringValue, "HELLO-1-r1")
      const file = readFileSync(join(dir, ".spec-orch/runs/HELLO-1-r1/trace.jsonl"), "utf8")
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l))
      assert.strictEqual(file.find((s) => s.name === "Run").spanId, run.spanId)
      // The header's value is a secret: nothing spec-orch wrote holds it.
      for (const f of filesUnder(join(dir, ".spec-orch"))) assert.notInclude(readFileSync(f, "latin1"), secret, f)
    } finally {
      otlp.close()
    }
  })

  it("a failed stage is ✗ with its reason, and a secret in it reaches neither the file nor the collector", async () => {
    const otlp = await receiver()
    const secret = "tr4ce-s3cret-0a1b2c3d4e"
    try {
      const p = makeProject({
        workspace: [`after_create = ["false ${secret}"]`],
        toml: `[telemetry]\notlp_endpoint = "${otlp.url}"\n`,
        env: { TRACE_TEST_TOKEN: secret }
      })
      p.issue("TR-7", { builder_prompt: "WRITE a.txt a" })
      const r = await p.cliAsync("run", "TR-7", "--auto-approve")
      assert.strictEqual(r.status, 1, r.stderr)
      const shown = p.cli("trace", "show", "TR-7-r1").stdout
      assert.match(
        shown,
        /✗ workspace\s+\S+\s+StageFailed: workspace stage failed: \[workspace\] after_create command .*false \[redacted:TRACE_TEST_TOKEN\].* failed \(exit 1\)/,
        shown
      )
      assert.match(shown, /✗ Run\b/)
      assert.match(shown, /✗ Verifier\.step \(step=after_create-1, outcome=failed, exit_code=1\)/)
      assert.notInclude(p.read(".spec-orch/runs/TR-7-r1/trace.jsonl"), secret)
      const failed = otlp.spans().find((s: any) => s.name === "workspace")
      assert.strictEqual(failed.status.code, 2, "exported as an error")
      assert.isAbove(otlp.posts.length, 0)
      for (const post of otlp.posts) assert.notInclude(post.text, secret)
    } finally {
      otlp.close()
    }
  })
})
