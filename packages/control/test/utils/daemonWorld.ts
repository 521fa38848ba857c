/**
 * A complete daemon for tests, wired like the CLI's `withEngine` + daemon command: a real project
 * in a temp git repository (with a bare `origin`), fake Linear and GitHub on 127.0.0.1, the
 * `command` agent adapter running a script in the worktree, the durable engine over a SQLite file
 * (or any other SqlClient, e.g. Postgres). Agents and checks run in the OS sandbox: they signal the test
 * through files in `cache/signals` (`[sandbox] writable`), and `agentsRunning` sees what still works in a
 * worktree (a pid a boxed process prints is its own namespace's).
 */
import { NodeServices } from "@effect/platform-node"
import { ConfigFile, type IssueSource, Project, Specs } from "@spec-orch/contract"
import { EvidencePlane } from "@spec-orch/evidence"
import { Agents, Sandbox, Verifier, Workspaces } from "@spec-orch/execution"
import { Compliance, ContextAssembler, Learnings, Redactor, SecretScan } from "@spec-orch/harness"
import { SqliteClient } from "@spec-orch/sqlite"
import {
  type FakeGitHub,
  fakeGitHub,
  type FakeLinear,
  fakeLinear,
  processesUnder,
  tempBareRemote,
  tempDir,
  tempRepo,
  type TempRepo
} from "@spec-orch/test-kit"
import { ConfigProvider, Effect, Layer, Logger } from "effect"
import type { SqlClient } from "effect/sql"
import { HttpServer } from "effect/http"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { createServer } from "node:http"
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { Daemon } from "../../src/daemon/Daemon.js"
import { webhookServer } from "../../src/daemon/Webhooks.js"
import { DaemonStore } from "../../src/daemon/DaemonStore.js"
import type { RunFinished } from "../../src/daemon/EvolutionTrigger.js"
import { Notifier } from "../../src/notify/Notifier.js"
import { Publisher } from "../../src/publish/Publisher.js"
import { RunPublisher } from "../../src/publish/RunPublisher.js"
import { ProcessToken } from "../../src/run/EngineLock.js"
import { EngineLockLayer, WorkflowEngineLayer } from "../../src/run/RunEngine.js"
import { Runs } from "../../src/run/Runs.js"
import { RunStore } from "../../src/run/RunStore.js"
import { RunWorkflowLayer } from "../../src/run/RunWorkflow.js"
import { GitHub } from "../../src/trackers/GitHub.js"
import { Linear } from "../../src/trackers/Linear.js"
import { RequestBudget, type RequestBudgetOptions } from "../../src/trackers/RequestBudget.js"
import { TrackerIssueSource } from "../../src/trackers/TrackerIssueSource.js"
import type { TomlLike } from "./trackers.js"

export const REPO = "acme/widgets"

/**
 * The stand-in agent: reads the prompt from stdin and acts on markers in it.
 * `SLOW` waits (up to 60 s) until `.release` appears in the worktree's parent; `BREAK` writes a file
 * the verification rejects; otherwise it writes `done-<issue>.txt`.
 */
export const AGENT_SCRIPT = `
import { appendFileSync, existsSync, readFileSync, writeFileSync } from "node:fs"
const prompt = readFileSync(0, "utf8")
const say = (e) => console.log(JSON.stringify(e))
const id = (/\\b(SON-\\d+|GH-\\d+)\\b/.exec(prompt) ?? ["X"])[0]
if (process.env.AGENT_LOG) appendFileSync(process.env.AGENT_LOG, \`\${Date.now()} start \${id}\\n\`)
say({ type: "message", text: "working on " + id })
if (prompt.includes("SLOW")) {
  const until = Date.now() + 60000
  while (Date.now() < until && !(process.env.AGENT_RELEASE && existsSync(process.env.AGENT_RELEASE))) {
    await new Promise((r) => setTimeout(r, 100))
  }
}
if (prompt.includes("BREAK")) writeFileSync("broken.txt", "the verification rejects this\\n")
writeFileSync(\`done-\${id}.txt\`, \`done \${id}\\n\`)
say({ type: "file_change", path: \`done-\${id}.txt\`, kind: "add" })
say({ type: "result", text: "done" })
if (process.env.AGENT_LOG) appendFileSync(process.env.AGENT_LOG, \`\${Date.now()} end \${id}\\n\`)
`

/** The verification: fails when the agent wrote `broken.txt`. */
export const CHECK_SCRIPT = `
import { existsSync } from "node:fs"
if (existsSync("broken.txt")) { console.error("broken.txt must not exist"); process.exit(1) }
console.log("ok")
`

/** A gate policy: builder + verification decide; review and acceptance are not required. */
export const GATE_POLICY = `conditions:
  builder:
    required: true
  verification:
    required: true
auto_merge: false
profiles:
  daemon:
    disable: []
`

export interface DaemonWorld {
  readonly repo: TempRepo
  readonly bare: string
  readonly github: FakeGitHub
  readonly linear: FakeLinear
  readonly cache: string
  readonly releaseFile: string
  readonly agentLog: string
  readonly config: TomlLike
  readonly env: Record<string, string>
}

/** A project repository with the agent, the check and the policy committed, and both fakes seeded with team SON. */
export const daemonWorld = (options: { readonly daemon?: Record<string, unknown>; readonly extra?: TomlLike } = {}) =>
  Effect.gen(function* () {
    const repo = yield* tempRepo({
      files: {
        "README.md": "# widgets\n",
        "agent.mjs": AGENT_SCRIPT,
        "check.mjs": CHECK_SCRIPT,
        "gate.policy.yaml": GATE_POLICY,
        ".gitignore": ".spec-orch/\n"
      }
    })
    const bare = yield* tempBareRemote(repo)
    mkdirSync(join(repo.path, ".spec-orch"), { recursive: true })
    const github = yield* fakeGitHub()
    github.addRepo(REPO, { gitDir: bare })
    const linear = yield* fakeLinear()
    linear.addTeam({ key: "SON" })
    const cache = yield* tempDir()
    // The stand-in agent signals the test through files in one directory, shared writable with its box.
    const signals = join(cache, "signals")
    mkdirSync(signals, { recursive: true })
    const agentEnv = { AGENT_RELEASE: join(signals, "release"), AGENT_LOG: join(signals, "agent.log") }
    const config: TomlLike = {
      ...options.extra,
      issue: { source: "linear" },
      linear: { api_url: linear.url, team_key: "SON" },
      github: { repo: REPO, api_url: github.url, base_branch: "main" },
      builder: {
        adapter: "command",
        command: ["node", "agent.mjs"],
        timeout_seconds: 120,
        stall_timeout_seconds: 60,
        env: agentEnv
      },
      verification: { check: ["node", "check.mjs"] },
      workspace: { root: join(cache, "worktrees") },
      sandbox: { writable: [signals] },
      daemon: {
        max_concurrent: 3,
        max_retries: 1,
        retry_base_delay_seconds: 0,
        poll_interval_seconds: 1,
        ...options.daemon
      }
    }
    const env = { GITHUB_TOKEN: github.token, SPEC_ORCH_LINEAR_TOKEN: linear.token }
    return {
      repo,
      bare,
      github,
      linear,
      cache,
      releaseFile: agentEnv.AGENT_RELEASE,
      agentLog: agentEnv.AGENT_LOG,
      config,
      env
    } satisfies DaemonWorld
  })

/** Every service the daemon needs, over the world's project, like `spec-orch daemon start`. */
export const daemonLayer = (
  w: DaemonWorld,
  options: {
    readonly budget?: RequestBudgetOptions
    readonly stateDb?: string
    readonly sql?: Layer.Layer<SqlClient.SqlClient>
    /** What the daemon tells when a run finished (the app's evolution trigger); none by default. */
    readonly runFinished?: Layer.Layer<RunFinished, never, Project | DaemonStore>
  } = {}
) => {
  const project = Project.layerFrom(w.repo.path, ConfigFile.parse(w.config))
  const budget = options.budget !== undefined ? RequestBudget.layerWith(options.budget) : RequestBudget.layerUnlimited
  const trackers = Layer.mergeAll(Linear.layer, GitHub.layer).pipe(Layer.provideMerge(budget))
  const sql =
    options.sql ?? SqliteClient.layer({ filename: options.stateDb ?? join(w.repo.path, ".spec-orch", "state.db") })
  const planes = Layer.mergeAll(
    TrackerIssueSource.layer,
    Specs.layer,
    Workspaces.layer,
    Agents.layer,
    Verifier.layer,
    EvidencePlane,
    ContextAssembler.layer.pipe(Layer.provide(Learnings.layerNone)),
    Compliance.layer,
    RunStore.layer,
    ProcessToken.layer,
    DaemonStore.layer,
    Notifier.layer,
    RunPublisher.layer.pipe(Layer.provideMerge(Publisher.layer))
  ).pipe(
    Layer.provideMerge(SecretScan.layer),
    Layer.provideMerge(Redactor.layer),
    Layer.provideMerge(Sandbox.layer),
    Layer.provideMerge(trackers),
    Layer.provideMerge(sql)
  )
  const engine = Runs.layer.pipe(
    Layer.provideMerge(RunWorkflowLayer),
    Layer.provideMerge(WorkflowEngineLayer),
    Layer.provideMerge(EngineLockLayer("spec-orch daemon start (test)"))
  )
  return Daemon.layer.pipe(
    Layer.provide(options.runFinished ?? Layer.empty),
    Layer.provideMerge(engine),
    Layer.provideMerge(planes),
    Layer.provideMerge(project),
    Layer.provideMerge(
      ConfigProvider.layer(ConfigProvider.fromEnvRecord({ ...(process.env as Record<string, string>), ...w.env }))
    ),
    Layer.provideMerge(NodeServices.layer)
  )
}

/**
 * The daemon of `daemonLayer` behind its webhook endpoint on 127.0.0.1 (deliveries signed with `secret`),
 * like `spec-orch daemon start` with `[daemon] webhook_port`. `webhookUrl` reads the bound address.
 */
export const daemonWithWebhooks = (w: DaemonWorld, secret: string) =>
  Layer.unwrap(
    Effect.gen(function* () {
      const d = yield* Daemon
      return webhookServer(() => d.poke)
    })
  ).pipe(
    Layer.provideMerge(NodeHttpServer.layer(() => createServer(), { port: 0, host: "127.0.0.1" })),
    Layer.provideMerge(daemonLayer({ ...w, env: { ...w.env, SPEC_ORCH_WEBHOOK_SECRET: secret } }))
  )

export const webhookUrl = Effect.gen(function* () {
  const address = (yield* HttpServer.HttpServer).address
  return "port" in address ? `http://127.0.0.1:${address.port}/` : ""
})

/** A Linear issue with the sections the triage rules want; `marker` (SLOW, BREAK) steers the stand-in agent. */
export const readyIssue = (linear: FakeLinear, title: string, marker = "", state = "Ready") =>
  linear.addIssue({
    team: "SON",
    title,
    state,
    description: `## Builder Prompt\nImplement ${title}. ${marker}\n\n## Acceptance Criteria\n- ${title} works\n`
  })

/** The issue source type is used by tests that read issues back. */
export type { IssueSource }

/** Polls `check` every 100 ms until it holds; fails naming `what` after `timeoutMs`. */
export const eventually = (what: string, check: () => boolean, timeoutMs = 30_000) =>
  Effect.gen(function* () {
    const until = Date.now() + timeoutMs
    while (!check()) {
      if (Date.now() > until) return yield* Effect.die(new Error(`timed out waiting for ${what}`))
      yield* Effect.sleep("100 millis")
    }
  })

/** The stand-in agent's log: `start SON-1` / `end SON-1` lines, in order. */
export const agentLog = (w: DaemonWorld): ReadonlyArray<string> =>
  existsSync(w.agentLog)
    ? readFileSync(w.agentLog, "utf8")
        .split("\n")
        .filter((l) => l !== "")
        .map((l) => l.replace(/^\d+ /, ""))
    : []

/** Processes working in one of the world's worktrees right now (boxed agents, steps, what they started). */
export const agentsRunning = (w: DaemonWorld): Array<string> => processesUnder(join(w.cache, "worktrees"))

/** Lets every SLOW agent finish. */
export const releaseAgents = (w: DaemonWorld): void => writeFileSync(w.releaseFile, "go\n")

/** Comments on a Linear issue carrying a spec-orch marker `key`. */
export const commentsWith = (w: DaemonWorld, identifier: string, key: string) =>
  w.linear.comments(identifier).filter((c) => c.body.includes(`<!-- spec-orch:comment=${key} -->`))

/** Log lines of the effect it is provided to (level and message). */
export const capturedLogs = () => {
  const lines: Array<string> = []
  const layer = Logger.layer(
    [
      Logger.make((o) => {
        const m = o.message
        lines.push(`${String(o.logLevel)}: ${Array.isArray(m) ? m.map(String).join(" ") : String(m)}`)
      })
    ],
    { mergeWithExisting: true }
  )
  return { lines, layer }
}
