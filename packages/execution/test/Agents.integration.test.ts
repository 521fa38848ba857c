/**
 * The real agent CLIs (pinned, from the tool cache filled by scripts/install-agents.mjs) against the
 * scripted model server, in the worktree the product uses: a linked worktree that Workspaces creates
 * under an XDG cache home outside the temp dir, with the run directory in the repository's state dir
 * (here under /tmp, which once broke Codex's own sandbox). Each must write the file, report the right
 * events and outcome, fail fast on HTTP 400, be ended by our watchdog when the model never answers,
 * and report a write it refused as a failed tool call in the outcome and in the builder condition.
 */
import { NodeServices } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import {
  type AgentEvent,
  type AgentOutcome,
  ConfigFile,
  defaultConfig,
  EvidenceBundle,
  makeRunKey,
  Project,
  type SpecOrchConfig
} from "@spec-orch/contract"
import { BUILTIN_CONDITIONS, DEFAULT_CONTEXT } from "@spec-orch/evidence"
import {
  describeProcesses,
  ModelServer,
  type ModelRequest,
  processesIn,
  type Reply,
  scripts,
  shellCall,
  tempRepo,
  writeCall
} from "@spec-orch/test-kit"
import { Effect, Layer } from "effect"
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs"
import { homedir, tmpdir } from "node:os"
import { join, relative } from "node:path"
import { type AgentRequest, Agents, Workspaces } from "../src/index.js"
import { Boxed } from "./utils/layers.js"

const AgentsLive = Agents.layer.pipe(Layer.provide(Boxed))

const PROMPT = "Create hello.txt containing hi, then show it with cat. Reply DONE."
const KEY = "SPC-1"

const inside = (dir: string, path: string) => !relative(dir, path).startsWith("..")

/**
 * A repository and the worktree Workspaces prepares for it, as `spec-orch run` does: under
 * `$XDG_CACHE_HOME/spec-orch/worktrees` with XDG_CACHE_HOME = `$HOME/.cache/spec-orch-test-*` (given as
 * `[workspace] root`, so the test does not touch process.env), removed when the scope closes.
 */
const productWorktree = Effect.gen(function* () {
  const repo = yield* tempRepo({ files: { "README.md": "# demo\n" } })
  mkdirSync(join(homedir(), ".cache"), { recursive: true })
  const cacheHome = yield* Effect.acquireRelease(
    Effect.sync(() => mkdtempSync(join(homedir(), ".cache", "spec-orch-test-"))),
    (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
  )
  const config = ConfigFile.parse({ workspace: { root: join(cacheHome, "spec-orch", "worktrees") } })
  const layer = Workspaces.layer.pipe(
    Layer.provide(Project.layerFrom(repo.path, config)),
    Layer.provide(NodeServices.layer)
  )
  const workspaces = yield* Effect.provide(Effect.service(Workspaces), layer)
  const binding = yield* workspaces.prepare({ runKey: makeRunKey(KEY) }).pipe(Effect.orDie)
  return {
    repo,
    cacheHome,
    workspaces,
    binding,
    cwd: binding.path,
    runDir: join(repo.path, ".spec-orch", "runs", "run-1")
  }
})

const events = (runDir: string) =>
  readFileSync(join(runDir, "events.jsonl"), "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as AgentEvent)

/** The gate's builder condition over this outcome and the files the run really changed. */
const builderCondition = (outcome: AgentOutcome, changedFiles: ReadonlyArray<string>) =>
  BUILTIN_CONDITIONS.find((c) => c.name === "builder")!.judge(
    new EvidenceBundle({ schemaVersion: 1, issueId: KEY, builder: outcome, changedFiles }),
    DEFAULT_CONTEXT
  )

/** Tool-less side requests get a short text; turn requests `turn(req)`. */
const turns =
  (turn: (req: ModelRequest) => Reply) =>
  (req: ModelRequest): Reply =>
    req.tools.length === 0 ? { text: "OK" } : turn(req)

interface Case {
  readonly adapter: string
  readonly builder?: Partial<SpecOrchConfig["builder"]>
  /** Seconds for the hang case (the CLI must get as far as calling the model). */
  readonly hangTimeout: number
  /**
   * A write this agent refuses, and what it reports: by default a file in the user's main checkout
   * (outside the worktree); Droid has no path confinement, so for it a command its `--auto` level refuses.
   */
  readonly refused: {
    readonly kind: "file_change" | "command"
    readonly name: string
    readonly reason: RegExp
    readonly script?: (outside: string) => (req: ModelRequest) => Reply
  }
}

const outsideWrite = (outside: string) =>
  turns((req) =>
    req.toolResults === 0
      ? writeCall(req, outside, "hi\n")
      : req.toolResults === 1
        ? shellCall(req, "cat hello.txt")
        : { text: "DONE" }
  )

const CASES: ReadonlyArray<Case> = [
  {
    adapter: "claude_code",
    hangTimeout: 4,
    refused: {
      kind: "file_change",
      name: "Write",
      reason: /^permission denied: Path is outside allowed working directories/
    }
  },
  {
    adapter: "codex",
    hangTimeout: 4,
    refused: { kind: "file_change", name: "apply_patch", reason: /^patch rejected: writing outside of the project/ }
  },
  {
    adapter: "opencode",
    hangTimeout: 15,
    refused: {
      kind: "file_change",
      name: "write",
      reason: /^permission denied: The user has specified a rule which prevents you/
    }
  },
  {
    adapter: "droid",
    hangTimeout: 6,
    refused: {
      kind: "command",
      name: "Execute",
      reason: /insufficient permission to proceed/,
      script: (outside) =>
        turns((req) => {
          if (req.toolResults > 0) return { text: "DONE" }
          const call = shellCall(req, `printf 'hi\\n' > '${outside}'`)
          return "tool" in call
            ? { tool: { ...call.tool, input: { ...(call.tool.input as object), riskLevel: "high" } } }
            : call
        })
    }
  },
  {
    adapter: "acp",
    builder: { agent: "claude-code" },
    hangTimeout: 8,
    refused: {
      kind: "file_change",
      name: `Write`,
      reason: /^permission denied: spec-orch's policy refused it \(the tool call names a path outside the worktree\)/
    }
  }
]

type Worktree = Effect.Success<typeof productWorktree>

/** One turn of `c`'s agent in `w`, against `server`. */
const runIn = (c: Case, server: ModelServer, w: Worktree, over: Partial<SpecOrchConfig["builder"]> = {}) =>
  Effect.gen(function* () {
    const agents = yield* Agents
    const builder: SpecOrchConfig["builder"] = {
      ...defaultConfig().builder,
      adapter: c.adapter,
      timeout_seconds: 120,
      stall_timeout_seconds: 120,
      ...c.builder,
      ...over
    }
    const request: AgentRequest = {
      adapter: c.adapter,
      prompt: PROMPT,
      cwd: w.cwd,
      runDir: w.runDir,
      builder,
      endpoint: { baseUrl: server.url, retries: false }
    }
    return yield* agents.run(request)
  }).pipe(Effect.provide(AgentsLive))

/** One turn in a fresh product worktree. */
const runTurn = (c: Case, server: ModelServer, over: Partial<SpecOrchConfig["builder"]> = {}) =>
  Effect.gen(function* () {
    const w = yield* productWorktree
    const outcome = yield* runIn(c, server, w, over)
    return { outcome, ...w }
  })

describe("the product's worktree location", () => {
  it.live(
    "is a linked worktree under an XDG cache home outside the temp dir, with the run directory in the repository",
    () =>
      Effect.gen(function* () {
        const w = yield* productWorktree
        assert.isTrue(inside(join(w.cacheHome, "spec-orch", "worktrees"), w.cwd), w.cwd)
        assert.isFalse(
          inside(tmpdir(), w.cwd),
          "the worktree is not under the temp dir, where Codex's sandbox always allows writes"
        )
        assert.isTrue(
          statSync(join(w.cwd, ".git")).isFile(),
          "a linked worktree: .git is a file pointing into the repository"
        )
        assert.isTrue(
          inside(tmpdir(), w.runDir),
          "the run directory (the agent's HOME, CODEX_HOME) is under /tmp, as it is for a repository there"
        )
      }).pipe(Effect.scoped)
  )
})

for (const c of CASES) {
  describe(`${c.adapter} (real CLI)`, () => {
    it.live(
      "writes the file through its tools, runs the command, and completes",
      () =>
        Effect.gen(function* () {
          const server = yield* ModelServer.scoped()
          const { outcome, cwd, runDir } = yield* runTurn(c, server)
          assert.strictEqual(outcome.kind, "completed", outcome.message)
          assert.strictEqual(readFileSync(join(cwd, "hello.txt"), "utf8"), "hi\n")
          assert.include(outcome.filesChanged, "hello.txt")
          assert.isAtLeast(outcome.commandsRun, 1)
          assert.strictEqual(outcome.finalText?.trim(), "DONE")
          assert.isDefined(outcome.sessionId)
          assert.isUndefined(outcome.failedToolCalls, JSON.stringify(outcome.failedToolCalls))
          const tags = new Set(events(runDir).map((e) => e._tag))
          for (const t of ["session", "tool_call", "tool_result", "file_change", "command", "turn_end"])
            assert.isTrue(tags.has(t as AgentEvent["_tag"]), `an event of kind ${t}`)
          assert.isTrue(existsSync(join(runDir, "agent.jsonl")))
          // The prompt went in on stdin (or over ACP), never argv: the model saw it.
          assert.isTrue(
            server.requests.some((r) => r.lastUserText.includes(PROMPT)),
            "the model received the prompt"
          )
          const left = processesIn(cwd)
          assert.deepStrictEqual(left, [], `left running in the worktree: ${describeProcesses(left)}`)
        }).pipe(Effect.scoped),
      180_000
    )

    it.live(
      "reports a write it refused as a failed tool call, in the outcome and in the builder condition",
      () =>
        Effect.gen(function* () {
          const w = yield* productWorktree
          const outside = join(w.repo.path, "outside.txt")
          const server = yield* ModelServer.scoped({ script: (c.refused.script ?? outsideWrite)(outside) })
          const outcome = yield* runIn(c, server, w)
          assert.isFalse(existsSync(outside), "nothing was written into the main checkout")
          const failedCall = outcome.failedToolCalls?.find((f) => f.kind === c.refused.kind)
          assert.isDefined(failedCall, `a failed ${c.refused.kind} in ${JSON.stringify(outcome.failedToolCalls)}`)
          assert.isTrue(failedCall!.name.startsWith(c.refused.name), failedCall!.name)
          // Outside the box the agent's own policy refuses it; inside, the agent may try and the box's
          // read-only main checkout makes the write fail. Either way it is a failed call, never a success.
          const boxSaidNo = /read-only file system|EROFS|could not apply the patch/i.test(failedCall!.reason)
          assert.isTrue(
            boxSaidNo || (failedCall!.denied === true && c.refused.reason.test(failedCall!.reason)),
            failedCall!.reason
          )
          const { changedFiles } = yield* w.workspaces.commitAll(w.binding, "turn").pipe(Effect.orDie)
          assert.deepStrictEqual(changedFiles, [])
          const judged = builderCondition(outcome, changedFiles)
          assert.strictEqual(judged.status, "failed", judged.reason)
          assert.include(judged.reason, failedCall!.name)
          assert.deepStrictEqual(processesIn(w.cwd), [])
        }).pipe(Effect.scoped),
      180_000
    )

    it.live(
      "fails fast with the provider's error on HTTP 400",
      () =>
        Effect.gen(function* () {
          const server = yield* ModelServer.scoped({ script: scripts.turnsReply({ error: 400 }) })
          const { outcome, cwd } = yield* runTurn(c, server)
          assert.strictEqual(outcome.kind, "failed")
          assert.include(outcome.message ?? "", "Bad request (model server)")
          assert.isFalse(existsSync(join(cwd, "hello.txt")))
          assert.deepStrictEqual(processesIn(cwd), [])
        }).pipe(Effect.scoped),
      180_000
    )

    it.live(
      "is ended by our watchdog when the model never answers",
      () =>
        Effect.gen(function* () {
          const server = yield* ModelServer.scoped({ script: scripts.turnsReply({ hang: true }) })
          const { outcome, cwd } = yield* runTurn(c, server, { timeout_seconds: c.hangTimeout })
          assert.strictEqual(outcome.kind, "timed_out")
          assert.deepStrictEqual(processesIn(cwd), [])
        }).pipe(Effect.scoped),
      180_000
    )
  })
}
