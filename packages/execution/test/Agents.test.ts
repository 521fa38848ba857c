import { assert, describe, it } from "@effect/vitest"
import { type AgentEvent, defaultConfig, type SpecOrchConfig } from "@spec-orch/contract"
import { processAlive } from "@spec-orch/test-kit"
import { environmentProvider, Redactor } from "@spec-orch/harness"
import { ConfigProvider, Deferred, Effect, Fiber, Layer } from "effect"
import { TestClock } from "effect/testing"
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync
} from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { type AgentRequest, Agents, turnReachesNetwork } from "../src/index.js"
import { Unboxed } from "./utils/layers.js"

const AgentsLive = Agents.layer.pipe(Layer.provide(Unboxed))

const builder = (over: Partial<SpecOrchConfig["builder"]> = {}): SpecOrchConfig["builder"] => ({
  ...defaultConfig().builder,
  adapter: "command",
  ...over
})

/** A fresh worktree-like directory and run directory. */
const dirs = () => {
  const root = mkdtempSync(join(tmpdir(), "spec-orch-agents-"))
  const cwd = join(root, "worktree")
  mkdirSync(cwd)
  return { cwd, runDir: join(root, "run") }
}

const run = (over: Partial<AgentRequest> & { builder: SpecOrchConfig["builder"] }) =>
  Effect.gen(function* () {
    const agents = yield* Agents
    const d = dirs()
    const outcome = yield* agents.run({ adapter: over.builder.adapter, prompt: "do the task", ...d, ...over })
    return { outcome, ...d, ...over }
  }).pipe(Effect.provide(AgentsLive))

const sh = (script: string) => builder({ command: ["sh", "-c", script] })
const lines = (file: string) =>
  readFileSync(file, "utf8")
    .split("\n")
    .filter((l) => l !== "")
const alive = processAlive

describe("Agents.run with the command adapter", () => {
  it.live("completes on exit 0 with the prompt on stdin, keeping raw lines verbatim and events in order", () =>
    Effect.gen(function* () {
      const script = `read prompt; echo "got: $prompt"; echo '  not json {  '; printf x > a.txt; echo '{"type":"file_change","path":"a.txt","kind":"add"}'; echo '{"type":"command","command":"make","exit_code":0}'`
      const { outcome, cwd, runDir } = yield* run({ builder: sh(script), prompt: "build the thing" })
      assert.strictEqual(outcome.kind, "completed")
      assert.strictEqual(outcome.exitCode, 0)
      assert.deepStrictEqual(outcome.filesChanged, ["a.txt"])
      assert.strictEqual(outcome.commandsRun, 1)
      assert.strictEqual(readFileSync(join(cwd, "a.txt"), "utf8"), "x")
      assert.deepStrictEqual(lines(join(runDir, "agent.jsonl")), [
        "got: build the thing",
        "  not json {  ",
        `{"type":"file_change","path":"a.txt","kind":"add"}`,
        `{"type":"command","command":"make","exit_code":0}`
      ])
      const events = lines(join(runDir, "events.jsonl")).map((l) => JSON.parse(l) as AgentEvent)
      assert.deepStrictEqual(
        events.map((e) => e._tag),
        ["message", "message", "file_change", "command"]
      )
      assert.strictEqual(outcome.eventCount, 4)
      assert.strictEqual(outcome.finalText, "  not json {")
    })
  )

  it.live("fails with the agent's own error and exit code", () =>
    Effect.gen(function* () {
      const { outcome, runDir } = yield* run({
        builder: sh(`echo '{"type":"error","message":"cannot reach the database"}'; echo oops >&2; exit 3`)
      })
      assert.strictEqual(outcome.kind, "failed")
      assert.strictEqual(outcome.message, "cannot reach the database")
      assert.strictEqual(outcome.exitCode, 3)
      assert.strictEqual(readFileSync(join(runDir, "agent.stderr.log"), "utf8"), "oops\n")
    })
  )

  it.effect("times out on the wall clock and kills the whole process tree (time from the Clock)", () =>
    Effect.gen(function* () {
      const ticking = yield* Deferred.make<void>()
      const fiber = yield* run({
        builder: {
          ...sh(`sleep 300 & echo $! > child.pid; while :; do echo tick; sleep 0.2; done`),
          timeout_seconds: 600,
          stall_timeout_seconds: 3600
        },
        onEvent: () => Deferred.succeed(ticking, undefined).pipe(Effect.asVoid)
      }).pipe(Effect.forkChild)
      yield* Deferred.await(ticking)
      // Output keeps coming, so only the wall-clock deadline can end it; nobody waits ten minutes.
      yield* TestClock.adjust("599 seconds")
      assert.isUndefined(fiber.pollUnsafe(), "still running one second before the deadline")
      yield* TestClock.adjust("1 second")
      const { outcome, cwd } = yield* Fiber.join(fiber)
      assert.strictEqual(outcome.kind, "timed_out")
      assert.strictEqual(
        outcome.message,
        "no result within 600 s ([builder] timeout_seconds); the agent's process tree was killed"
      )
      const child = Number(readFileSync(join(cwd, "child.pid"), "utf8"))
      assert.isFalse(alive(child), "the agent's background child was killed too")
    })
  )

  it.live("leaves nothing running after an agent that exits with a background child still holding its stdout", () =>
    Effect.gen(function* () {
      const { outcome, cwd } = yield* run({ builder: sh(`sleep 300 & echo $! > child.pid; echo done`) })
      assert.strictEqual(outcome.kind, "completed")
      assert.strictEqual(outcome.finalText, "done")
      assert.isFalse(alive(Number(readFileSync(join(cwd, "child.pid"), "utf8"))))
    })
  )

  it.effect("ends a turn that stops producing output as stalled (time from the Clock)", () =>
    Effect.gen(function* () {
      const started = yield* Deferred.make<void>()
      const fiber = yield* run({
        builder: { ...sh(`echo started; exec sleep 300`), stall_timeout_seconds: 300, timeout_seconds: 3600 },
        onEvent: () => Deferred.succeed(started, undefined).pipe(Effect.asVoid)
      }).pipe(Effect.forkChild)
      yield* Deferred.await(started)
      yield* TestClock.adjust("299 seconds")
      assert.isUndefined(fiber.pollUnsafe(), "still running one second before the stall limit")
      yield* TestClock.adjust("1 second")
      const { outcome } = yield* Fiber.join(fiber)
      assert.strictEqual(outcome.kind, "stalled")
      assert.strictEqual(
        outcome.message,
        "no output for 300 s ([builder] stall_timeout_seconds); the agent's process tree was killed"
      )
      assert.strictEqual(outcome.finalText, "started")
    })
  )

  it.live("stops a turn whose reported usage goes over the token budget", () =>
    Effect.gen(function* () {
      const { outcome } = yield* run({
        builder: {
          ...sh(`echo '{"type":"result","usage":{"input_tokens":500,"output_tokens":10}}'; exec sleep 300`),
          max_tokens: 100
        }
      })
      assert.strictEqual(outcome.kind, "budget_exceeded")
      assert.strictEqual(outcome.message, "used 510 tokens, over the budget of 100 ([builder] max_tokens)")
      assert.deepStrictEqual([outcome.usage.inputTokens, outcome.usage.outputTokens], [500, 10])
    })
  )

  it.live("is cancelled when the caller's cancel signal fires, and says so", () =>
    Effect.gen(function* () {
      const started = yield* Deferred.make<void>()
      const { outcome, cwd } = yield* run({
        builder: sh(`sleep 300 & echo $! > child.pid; echo ready; wait`),
        onEvent: () => Deferred.succeed(started, undefined).pipe(Effect.asVoid),
        cancel: Deferred.await(started)
      })
      assert.strictEqual(outcome.kind, "cancelled")
      assert.isFalse(alive(Number(readFileSync(join(cwd, "child.pid"), "utf8"))))
    })
  )

  it.live("kills the agent and records the cancellation when the run is interrupted", () =>
    Effect.gen(function* () {
      const d = dirs()
      const started = yield* Deferred.make<void>()
      const fiber = yield* Effect.gen(function* () {
        const agents = yield* Agents
        return yield* agents.run({
          adapter: "command",
          prompt: "x",
          ...d,
          builder: sh(`sleep 300 & echo $! > child.pid; echo ready; wait`),
          onEvent: () => Deferred.succeed(started, undefined).pipe(Effect.asVoid)
        })
      }).pipe(Effect.provide(AgentsLive), Effect.forkChild)
      yield* Deferred.await(started)
      yield* Fiber.interrupt(fiber)
      assert.isFalse(alive(Number(readFileSync(join(d.cwd, "child.pid"), "utf8"))))
      const last = JSON.parse(lines(join(d.runDir, "events.jsonl")).at(-1)!)
      assert.deepStrictEqual([last._tag, last.reason, last.ok], ["turn_end", "cancelled", false])
    })
  )
})

describe("Agents.run with a program given as a path", () => {
  it.live("runs ./agent.sh from the worktree the agent works in", () =>
    Effect.gen(function* () {
      const d = dirs()
      writeFileSync(join(d.cwd, "agent.sh"), "#!/bin/sh\necho from the worktree own script\n", { mode: 0o755 })
      const outcome = yield* Effect.gen(function* () {
        const agents = yield* Agents
        return yield* agents.run({
          adapter: "command",
          prompt: "x",
          ...d,
          builder: builder({ command: ["./agent.sh"] })
        })
      }).pipe(Effect.provide(AgentsLive))
      assert.strictEqual(outcome.kind, "completed", outcome.message)
      assert.strictEqual(outcome.finalText, "from the worktree own script")
    })
  )
})

describe("Agents.run output bounds", () => {
  const limits = (over: Partial<SpecOrchConfig["limits"]>): SpecOrchConfig["limits"] => ({
    ...defaultConfig().limits,
    ...over
  })

  it.live("cuts a line over the cap with a marker, does not parse it, and flags the outcome", () =>
    Effect.gen(function* () {
      const script = `head -c 5000000 /dev/zero | tr '\\0' x; echo; echo '{"type":"result","ok":true,"text":"finished"}'`
      const { outcome, runDir } = yield* run({ builder: sh(script), limits: limits({ output_line_bytes: 1000 }) })
      assert.strictEqual(outcome.kind, "completed")
      assert.strictEqual(outcome.finalText, "finished")
      assert.deepStrictEqual(outcome.outputTruncated, {
        lines: 1,
        lineBytesDropped: 5_000_000 - 1000,
        artifactBytesDropped: 0
      })
      const [first, second] = lines(join(runDir, "agent.jsonl"))
      assert.strictEqual(first, `${"x".repeat(1000)} …[spec-orch: ${5_000_000 - 1000} more bytes of this line dropped]`)
      assert.strictEqual(second, `{"type":"result","ok":true,"text":"finished"}`)
    })
  )

  it.live("stops growing an artifact at its cap, says so once, and still reads the agent's result", () =>
    Effect.gen(function* () {
      const script = `i=0; while [ $i -lt 2000 ]; do echo "line $i of chatter"; i=$((i+1)); done; echo '{"type":"result","ok":true,"text":"finished"}'`
      const { outcome, runDir } = yield* run({ builder: sh(script), limits: limits({ agent_output_bytes: 4096 }) })
      assert.strictEqual(outcome.kind, "completed")
      assert.strictEqual(outcome.finalText, "finished")
      assert.isAbove(outcome.outputTruncated!.artifactBytesDropped, 0)
      const raw = readFileSync(join(runDir, "agent.jsonl"), "utf8")
      assert.isAtMost(Buffer.byteLength(raw), 4096 + 200)
      assert.strictEqual(raw.split("reached its cap").length - 1, 1)
    })
  )
})

describe("Agents.run redaction", () => {
  const token = "ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
  const deploy = "deploy-7f3a9c2e51b84d06"
  const WithSecret = Agents.layer.pipe(
    Layer.provide(Redactor.layerFrom({ AGENT_DEPLOY_TOKEN: deploy })),
    Layer.provide(Unboxed)
  )

  it.live("redacts a secret the agent's stderr delivers in two reads, and the last line without a newline", () =>
    Effect.gen(function* () {
      const d = dirs()
      // Each printf is one write; the pauses make each half its own read.
      const script = `printf 'auth failed for ${token.slice(0, 20)}' >&2; sleep 0.2; printf '${token.slice(20)} with ${deploy.slice(0, 11)}' >&2; sleep 0.2; printf '${deploy.slice(11)}' >&2; exit 2`
      const outcome = yield* Effect.gen(function* () {
        const agents = yield* Agents
        return yield* agents.run({ adapter: "command", prompt: "x", ...d, builder: sh(script) })
      }).pipe(Effect.provide(WithSecret))
      assert.strictEqual(outcome.kind, "failed")
      assert.strictEqual(
        readFileSync(join(d.runDir, "agent.stderr.log"), "utf8"),
        "auth failed for [redacted:github-token] with [redacted:AGENT_DEPLOY_TOKEN]\n"
      )
      assert.include(outcome.message, "auth failed for [redacted:github-token] with [redacted:AGENT_DEPLOY_TOKEN]")
      const written = [
        JSON.stringify(outcome),
        ...readdirSync(d.runDir)
          .filter((f) => f.includes("."))
          .map((f) => readFileSync(join(d.runDir, f), "utf8"))
      ].join("\n")
      for (const part of [token.slice(0, 20), token.slice(20), deploy.slice(0, 11), deploy.slice(11)])
        assert.notInclude(written, part)
    })
  )
})

describe("Agents.run environment", () => {
  /** The variables an agent running `env` printed (its raw output, agent.jsonl), by name. */
  const printedEnv = (runDir: string): Record<string, string> =>
    Object.fromEntries(
      lines(join(runDir, "agent.jsonl")).map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)])
    )

  it.live("passes no tracker or SCM token nor secret_env names, and gives the agent a private HOME", () =>
    Effect.gen(function* () {
      const host = {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        GITHUB_TOKEN: "ghp_x",
        LINEAR_API_KEY: "lin_x",
        SPEC_ORCH_LINEAR_TOKEN: "t",
        MY_DB_PASSWORD: "pw",
        AWS_SECRET_ACCESS_KEY: "aws",
        ANTHROPIC_API_KEY: "sk-ant-x",
        LANG: "C.UTF-8"
      }
      const result = yield* run({
        builder: {
          ...sh("env"),
          env: { GH_TOKEN: "x", FROM_CONFIG: "yes", MY_DB_PASSWORD: "again" },
          secret_env: ["MY_DB_PASSWORD"]
        },
        env: { GITLAB_TOKEN: "x", FROM_RUN: "1" }
      }).pipe(Effect.provideService(ConfigProvider.ConfigProvider, environmentProvider(host)))
      const env = printedEnv(result.runDir)
      for (const k of [
        "GITHUB_TOKEN",
        "LINEAR_API_KEY",
        "SPEC_ORCH_LINEAR_TOKEN",
        "MY_DB_PASSWORD",
        "AWS_SECRET_ACCESS_KEY",
        "GH_TOKEN",
        "GITLAB_TOKEN"
      ])
        assert.notProperty(env, k)
      assert.strictEqual(env.FROM_CONFIG, "yes")
      assert.strictEqual(env.FROM_RUN, "1")
      assert.strictEqual(env.ANTHROPIC_API_KEY, "sk-ant-x")
      assert.strictEqual(env.LANG, "C.UTF-8")
      assert.strictEqual(env.HOME, join(result.runDir, "home"))
      assert.strictEqual(env.CODEX_HOME, join(result.runDir, "home", ".codex"))
      assert.strictEqual(env.XDG_CONFIG_HOME, join(result.runDir, "home", ".config"))
      assert.strictEqual(env.DISABLE_TELEMETRY, "1")
      assert.isDefined(env.PATH)
    })
  )

  it.live(
    "gives a turn that calls no model (a policy's script) no model provider's key or endpoint, from any layer",
    () =>
      Effect.gen(function* () {
        const host = {
          PATH: process.env.PATH ?? "/usr/bin:/bin",
          ANTHROPIC_API_KEY: "sk-ant-x",
          OPENAI_API_KEY: "sk-openai-x",
          CLAUDE_CODE_OAUTH_TOKEN: "oauth-x",
          OPENROUTER_API_KEY: "or-x",
          LANG: "C.UTF-8",
          LC_ALL: "C.UTF-8"
        }
        const env = (model: boolean | undefined) =>
          run({
            builder: { ...sh("env"), env: { ANTHROPIC_BASE_URL: "http://127.0.0.1:9", FROM_CONFIG: "yes" } },
            env: { OPENAI_BASE_URL: "http://127.0.0.1:9", FROM_RUN: "1" },
            model
          }).pipe(
            Effect.map((result) => printedEnv(result.runDir)),
            Effect.provideService(ConfigProvider.ConfigProvider, environmentProvider(host))
          )
        const agent = yield* env(undefined)
        assert.strictEqual(agent.ANTHROPIC_API_KEY, "sk-ant-x", "an agent still gets its model's key")
        assert.strictEqual(agent.ANTHROPIC_BASE_URL, "http://127.0.0.1:9")
        const policy = yield* env(false)
        for (const k of [
          "ANTHROPIC_API_KEY",
          "OPENAI_API_KEY",
          "CLAUDE_CODE_OAUTH_TOKEN",
          "OPENROUTER_API_KEY",
          "ANTHROPIC_BASE_URL",
          "OPENAI_BASE_URL"
        ])
          assert.notProperty(policy, k)
        assert.strictEqual(policy.FROM_CONFIG, "yes")
        assert.strictEqual(policy.FROM_RUN, "1")
        assert.strictEqual(policy.LC_ALL, "C.UTF-8")
      })
  )
})

describe("Agents errors", () => {
  const fail = (request: Partial<AgentRequest> & { builder: SpecOrchConfig["builder"] }) => Effect.flip(run(request))

  it.effect("names an unknown adapter and suggests the closest", () =>
    Effect.gen(function* () {
      const e = yield* fail({ adapter: "claud_code", builder: builder() })
      assert.strictEqual(e.reason._tag, "UnknownAdapter")
      assert.match(
        e.message,
        /^agent adapter "claud_code" is not a known agent adapter \(did you mean "claude_code"\?\); set \[builder\] adapter to one of claude_code, codex/
      )
    })
  )

  it.effect("says what to add when the command adapter has no command", () =>
    Effect.gen(function* () {
      const e = yield* fail({ builder: builder() })
      assert.strictEqual(
        e.message,
        `agent adapter "command" cannot run: the command adapter needs [builder] command = ["program", "arg", …] (it runs in the worktree with the prompt on stdin)`
      )
    })
  )

  it.effect("says where it looked when the program is missing", () =>
    Effect.gen(function* () {
      const e = yield* fail({ builder: builder({ command: ["no-such-agent-program-xyz"] }) })
      assert.strictEqual(e.reason._tag, "ExecutableNotFound")
      assert.include(e.message, `needs "no-such-agent-program-xyz", which was not found (looked in`)
      assert.include(e.message, "set [builder] executable")
    })
  )

  it.effect("refuses to run outside an existing worktree", () =>
    Effect.gen(function* () {
      const e = yield* fail({ builder: sh("true"), cwd: "/nonexistent/worktree" })
      assert.include(e.message, "the worktree /nonexistent/worktree does not exist")
    })
  )
})

describe("Agents.check", () => {
  it.effect("finds the platform binary when npm left a placeholder shim (install scripts blocked)", () =>
    Effect.gen(function* () {
      const tools = mkdtempSync(join(tmpdir(), "spec-orch-tools-"))
      const nm = join(tools, "node_modules")
      const shim = join(nm, "@anthropic-ai", "claude-code", "bin", "claude.exe")
      const native = join(nm, "@anthropic-ai", `claude-code-${process.platform}-${process.arch}`, "claude")
      for (const f of [shim, native]) mkdirSync(join(f, ".."), { recursive: true })
      writeFileSync(shim, "#!/bin/sh\necho 'placeholder: postinstall did not run' >&2\nexit 1\n")
      writeFileSync(native, "#!/bin/sh\necho '9.9.9 (Claude Code)'\n")
      chmodSync(shim, 0o755)
      chmodSync(native, 0o755)
      mkdirSync(join(nm, ".bin"))
      symlinkSync(shim, join(nm, ".bin", "claude"))
      const saved = process.env.SPEC_ORCH_TOOLS
      process.env.SPEC_ORCH_TOOLS = tools
      const found = yield* Effect.gen(function* () {
        const agents = yield* Agents
        return yield* agents.check("claude_code", builder({ executable: undefined }))
      }).pipe(
        Effect.provide(AgentsLive),
        Effect.ensuring(
          Effect.sync(() => {
            if (saved === undefined) delete process.env.SPEC_ORCH_TOOLS
            else process.env.SPEC_ORCH_TOOLS = saved
          })
        )
      )
      assert.deepStrictEqual(found, { adapter: "claude_code", executable: native, version: "9.9.9" })
    })
  )

  it.effect("fails for a configured executable that does not exist", () =>
    Effect.gen(function* () {
      const e = yield* Effect.flip(
        Effect.gen(function* () {
          const agents = yield* Agents
          return yield* agents.check("codex", builder({ executable: "/opt/nowhere/codex" }))
        }).pipe(Effect.provide(AgentsLive))
      )
      assert.strictEqual(
        e.message,
        `agent adapter "codex" needs "/opt/nowhere/codex", which was not found (looked in /opt/nowhere/codex); install it (node scripts/install-agents.mjs installs the pinned agent CLIs) or set [builder] executable to its path`
      )
      assert.isFalse(existsSync("/opt/nowhere/codex"))
    })
  )
})

describe("turnReachesNetwork", () => {
  it("says which turns need the box's network relays (socat): providers, named endpoints, allowed hosts", () => {
    assert.isTrue(turnReachesNetwork("claude_code", [], {}), "an agent reaches its model provider")
    assert.isTrue(turnReachesNetwork("codex_exec", [], {}))
    assert.isFalse(turnReachesNetwork("command", [], {}), "a command agent reaches nothing by itself")
    assert.isTrue(turnReachesNetwork("command", ["api.example.com"], {}), "unless [sandbox] allow_hosts names a host")
    assert.isTrue(
      turnReachesNetwork("command", [], { OPENAI_BASE_URL: "http://127.0.0.1:8080/v1" }),
      "or the environment points it at a model server"
    )
    assert.isTrue(turnReachesNetwork("command", [], { SPEC_ORCH_AGENT_ENDPOINT: "https://models.example.com/v1#m" }))
  })
})
