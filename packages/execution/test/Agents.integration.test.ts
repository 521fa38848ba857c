/**
 * The real agent CLIs (pinned, from the tool cache filled by scripts/install-agents.mjs) against the
 * scripted model server, in a temp git repository: each must write the file, report the right events
 * and outcome, fail fast on HTTP 400, and be ended by our watchdog when the model never answers.
 */
import { assert, describe, it } from "@effect/vitest"
import { type AgentEvent, defaultConfig, type SpecOrchConfig } from "@spec-orch/contract"
import { ModelServer, processesIn, scripts } from "@spec-orch/test-kit"
import { NodeServices } from "@effect/platform-node"
import { Effect, Layer } from "effect"
import { execFileSync } from "node:child_process"
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { type AgentRequest, Agents } from "../src/index.js"

const AgentsLive = Agents.layer.pipe(Layer.provide(NodeServices.layer))

const PROMPT = "Create hello.txt containing hi, then show it with cat. Reply DONE."

/** A temp git repository (the worktree) and a run directory next to it. */
const repo = () => {
  const root = mkdtempSync(join(tmpdir(), "spec-orch-agent-it-"))
  const cwd = join(root, "worktree")
  mkdirSync(cwd)
  const git = (...args: Array<string>) => execFileSync("git", args, { cwd, stdio: "ignore" })
  git("init", "-q", "-b", "main")
  git("-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-q", "--allow-empty", "-m", "init")
  return { cwd, runDir: join(root, "run") }
}


const events = (runDir: string) => readFileSync(join(runDir, "events.jsonl"), "utf8").split("\n").filter((l) => l !== "").map((l) => JSON.parse(l) as AgentEvent)

interface Case {
  readonly adapter: string
  readonly builder?: Partial<SpecOrchConfig["builder"]>
  /** Seconds for the hang case (the CLI must get as far as calling the model). */
  readonly hangTimeout: number
}

const CASES: ReadonlyArray<Case> = [
  { adapter: "claude_code", hangTimeout: 4 },
  { adapter: "codex", hangTimeout: 4 },
  { adapter: "opencode", hangTimeout: 15 },
  { adapter: "droid", hangTimeout: 6 },
  { adapter: "acp", builder: { agent: "claude-code" }, hangTimeout: 8 }
]

const runTurn = (c: Case, server: ModelServer, over: Partial<SpecOrchConfig["builder"]> = {}) =>
  Effect.gen(function*() {
    const agents = yield* Agents
    const d = repo()
    const builder: SpecOrchConfig["builder"] = { ...defaultConfig().builder, adapter: c.adapter, timeout_seconds: 120, stall_timeout_seconds: 120, ...c.builder, ...over }
    const request: AgentRequest = { adapter: c.adapter, prompt: PROMPT, ...d, builder, endpoint: { baseUrl: server.url, retries: false } }
    const outcome = yield* agents.run(request)
    return { outcome, ...d }
  }).pipe(Effect.provide(AgentsLive))

for (const c of CASES) {
  describe(`${c.adapter} (real CLI)`, () => {
    it.live("writes the file through its tools, runs the command, and completes", () =>
      Effect.gen(function*() {
        const server = yield* ModelServer.scoped()
        const { outcome, cwd, runDir } = yield* runTurn(c, server)
        assert.strictEqual(outcome.kind, "completed", outcome.message)
        assert.strictEqual(readFileSync(join(cwd, "hello.txt"), "utf8"), "hi\n")
        assert.include(outcome.filesChanged, "hello.txt")
        assert.isAtLeast(outcome.commandsRun, 1)
        assert.strictEqual(outcome.finalText?.trim(), "DONE")
        assert.isDefined(outcome.sessionId)
        const tags = new Set(events(runDir).map((e) => e._tag))
        for (const t of ["session", "tool_call", "tool_result", "file_change", "command", "turn_end"]) assert.isTrue(tags.has(t as AgentEvent["_tag"]), `an event of kind ${t}`)
        assert.isTrue(existsSync(join(runDir, "agent.jsonl")))
        // The prompt went in on stdin (or over ACP), never argv: the model saw it.
        assert.isTrue(server.requests.some((r) => r.lastUserText.includes(PROMPT)), "the model received the prompt")
        assert.deepStrictEqual(processesIn(cwd), [])
      }).pipe(Effect.scoped), 180_000)

    it.live("fails fast with the provider's error on HTTP 400", () =>
      Effect.gen(function*() {
        const server = yield* ModelServer.scoped({ script: scripts.turnsReply({ error: 400 }) })
        const { outcome, cwd } = yield* runTurn(c, server)
        assert.strictEqual(outcome.kind, "failed")
        assert.include(outcome.message ?? "", "Bad request (model server)")
        assert.isFalse(existsSync(join(cwd, "hello.txt")))
        assert.deepStrictEqual(processesIn(cwd), [])
      }).pipe(Effect.scoped), 180_000)

    it.live("is ended by our watchdog when the model never answers", () =>
      Effect.gen(function*() {
        const server = yield* ModelServer.scoped({ script: scripts.turnsReply({ hang: true }) })
        const { outcome, cwd } = yield* runTurn(c, server, { timeout_seconds: c.hangTimeout })
        assert.strictEqual(outcome.kind, "timed_out")
        assert.deepStrictEqual(processesIn(cwd), [])
      }).pipe(Effect.scoped), 180_000)
  })
}
