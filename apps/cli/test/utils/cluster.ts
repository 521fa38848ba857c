/**
 * A cluster of real `spec-orch daemon start` processes for CLI tests (docs/cluster.md): one bare
 * repository as the shared remote, one clone and worktree root per host, one fresh Postgres database, the
 * fake GitHub as tracker, and a `command` agent that logs its turn to `agent.log` in a signals directory
 * (`start|end <issue> <host> <turn>`, `<turn>` unique to one agent process) and waits for `release()`
 * (unless `agentWaits: false`), logging a tick to `ticks.log` every 50 ms while it waits when `ticks`, then
 * works for the seconds in the signals' `work-seconds` file when there is one.
 * Pids inside the box are its namespace's, so a turn is told apart by its token, not its pid.
 */
import { freePorts, git, processesUnder, requirePostgres, startFakeGitHub } from "@spec-orch/test-kit"
import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { pathToFileURL } from "node:url"
import { runnerShardingConfig, runShard } from "@spec-orch/control"
import { Effect, Layer, Redacted } from "effect"
import { MessageStorage, RunnerHealth, Runners, RunnerStorage, Sharding, ShardingConfig } from "effect/cluster"
import { SqlClient } from "effect/sql"

export const pg = requirePostgres()
export const BIN = process.env.SPEC_ORCH_CLI ?? join(import.meta.dirname, "../../dist/main.js")
export const REPO = "acme/widgets"

const AGENT = `
import { appendFileSync, existsSync, readFileSync, writeFileSync } from "node:fs"
import { randomUUID } from "node:crypto"
import { join } from "node:path"
const prompt = readFileSync(0, "utf8")
const id = (/\\bGH-\\d+\\b/.exec(prompt) ?? ["X"])[0]
const dir = process.env.SIGNALS
const turn = randomUUID()
appendFileSync(join(dir, "agent.log"), "start " + id + " " + process.env.RUNNER_HOST + " " + turn + "\\n")
console.log(JSON.stringify({ type: "message", text: "working on " + id }))
// TICK=1: while it waits, "<host> <issue> <turn> tick <ms since epoch>" to ticks.log every 50 ms
while (process.env.WAIT === "1" && !existsSync(join(dir, "release"))) {
  if (process.env.TICK === "1") appendFileSync(join(dir, "ticks.log"), process.env.RUNNER_HOST + " " + id + " " + turn + " tick " + Date.now() + "\\n")
  await new Promise((r) => setTimeout(r, process.env.TICK === "1" ? 50 : 100))
}
// A turn that takes time without using the CPU: the seconds in work-seconds (benchmarks of a capacity-bound cluster).
const work = existsSync(join(dir, "work-seconds")) ? Number(readFileSync(join(dir, "work-seconds"), "utf8")) : 0
if (work > 0) await new Promise((r) => setTimeout(r, work * 1000))
writeFileSync("done-" + id + ".txt", "done\\n")
console.log(JSON.stringify({ type: "file_change", path: "done-" + id + ".txt", kind: "add" }))
appendFileSync(join(dir, "agent.log"), "end " + id + " " + process.env.RUNNER_HOST + " " + turn + "\\n")
`

/** Runs SQL on the server named by SPEC_ORCH_PG_URL (or `url`), through control's Postgres client. */
const onPostgres = async <A>(url: string, f: (sql: SqlClient.SqlClient) => Effect.Effect<A, unknown>) => {
  const load = createRequire(join(import.meta.dirname, "../../../../packages/control/package.json"))
  const { PgClient } = await import(pathToFileURL(load.resolve("@effect/sql-pg")).href)
  return Effect.runPromise(
    Effect.flatMap(Effect.service(SqlClient.SqlClient), f).pipe(
      Effect.provide(PgClient.layer({ url: Redacted.make(url) })),
      Effect.scoped
    ) as Effect.Effect<A>
  )
}

const freshDatabase = async () => {
  const name = `cluster_daemon_${Date.now()}_${Math.floor(Math.random() * 1e6)}`
  await onPostgres(pg.url!, (sql) => sql.unsafe(`CREATE DATABASE ${name}`))
  const u = new URL(pg.url!)
  u.pathname = `/${name}`
  return u.toString()
}

/**
 * The shard each run's execution falls on when no salt places it (`group:n`), by effect/cluster's own
 * sharding set up as a runner's is (`[cluster]` defaults), in memory.
 */
export const ownShards = (runIds: ReadonlyArray<string>) =>
  Effect.runPromise(
    Effect.forEach(runIds, (id) => runShard(id, undefined)).pipe(
      Effect.provide(
        Sharding.layer.pipe(
          Layer.provide(Runners.layerNoop),
          Layer.provide(MessageStorage.layerMemory),
          Layer.provide([RunnerStorage.layerMemory, RunnerHealth.layerNoop]),
          Layer.provide(
            ShardingConfig.layer(
              runnerShardingConfig({ url: "", runnerAddress: "127.0.0.1:1", shardGroups: ["default"] })
            )
          )
        )
      )
    )
  )

/** Waits until `check` holds, polling every 250 ms; fails naming `what` after `ms`. */
export const until = async (what: string, check: () => Promise<boolean> | boolean, ms = 90_000) => {
  const end = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 250))
  }
}

export const exited = (child: ChildProcess) =>
  new Promise<void>((resolve) =>
    child.exitCode !== null || child.signalCode !== null ? resolve() : child.on("exit", () => resolve())
  )

/** One line of `agent.log`. */
export interface AgentLine {
  readonly what: "start" | "end"
  readonly issue: string
  readonly host: string
  readonly turn: string
}

export interface Daemon {
  readonly host: string
  readonly child: ChildProcess
  readonly output: () => string
  readonly root: string
  readonly worktrees: string
  readonly address: string
}

export interface Cluster {
  readonly url: string
  /** The shared remote (a bare repository). */
  readonly bare: string
  readonly signals: string
  readonly github: Awaited<ReturnType<typeof startFakeGitHub>>
  readonly daemons: ReadonlyArray<Daemon>
  /** Every daemon's output so far, for failure messages. */
  readonly outputs: () => string
  /** `agent.log` so far. */
  readonly log: () => Array<AgentLine>
  /** The issues submitted (`GH-<n>`), once `submit` ran. */
  readonly submit: (count: number) => Array<string>
  /**
   * Adds issues #1 to the largest of `numbers` to a tracker that has none yet: open for those in
   * `numbers`, closed (no daemon takes them) for the rest. The open ones, as `GH-<n>`.
   */
  readonly submitNumbers: (numbers: ReadonlyArray<number>) => Array<string>
  /** What each live runner last published of the shards it holds (RunPlacement), by runner address. */
  readonly runnerShards: () => Promise<Map<string, ReadonlySet<string>>>
  /** `daemon status --json` run in `daemon`'s project. */
  readonly status: (daemon: Daemon) => {
    readonly claims: Array<{ issueId: string; runner?: string | null }>
    readonly issues: Array<{ issueId: string; status: string }>
  }
  /** Lets every agent waiting for the word end its turn. */
  readonly release: () => void
  /** Starts `daemon start` again on a host whose daemon exited (its clone, worktrees and address). */
  readonly restart: (daemon: Daemon) => Daemon
  /** Stops every daemon (SIGTERM, then SIGKILL) and every agent, and the fake GitHub. */
  readonly stop: () => Promise<void>
}

/**
 * Starts `hosts` daemons on one fresh database and waits until every runner registered and the shards
 * settled (two lock expiries of 4 s), before any work arrives.
 */
export const startCluster = async (options: {
  readonly hosts: number
  readonly maxConcurrent: number
  /** Whether agents wait for `release()` (default true). */
  readonly agentWaits?: boolean
  /** Whether waiting agents log `<host> <issue> <turn> tick <ms>` to `ticks.log` every 50 ms (default false). */
  readonly ticks?: boolean
  /** Files written to the signals directory before the daemons start (sandboxed steps see it). */
  readonly files?: Readonly<Record<string, string>>
  /** The verification step, given the signals directory (default: `node check.mjs`, which passes). */
  readonly check?: (signals: string) => ReadonlyArray<string>
  /**
   * Lines added to each host's `[daemon]` section (default polling every second); `port` is a free port
   * kept for this host (picked with the runners' ports, so distinct from them), e.g. for its webhooks.
   */
  readonly daemon?: (host: number, port: number) => ReadonlyArray<string>
  /** Lines added to each host's `[cluster]` section. */
  readonly cluster?: ReadonlyArray<string>
  /** Environment of every daemon, beside the tracker token and the cluster's URL. */
  readonly env?: Readonly<Record<string, string>>
}) => {
  const url = await freshDatabase()
  const base = mkdtempSync(join(tmpdir(), "cluster-daemon-"))
  const bare = join(base, "origin.git")
  const signals = join(base, "signals")
  const agent = join(base, "agent.mjs")
  mkdirSync(signals)
  writeFileSync(agent, AGENT)
  for (const [name, text] of Object.entries(options.files ?? {})) writeFileSync(join(signals, name), text)
  const github = await startFakeGitHub()
  const daemons: Array<Daemon> = []
  const stop = async () => {
    for (const d of daemons) {
      // a paused daemon would not hear SIGTERM
      for (const pid of [d.child.pid, ...processesUnder(d.worktrees).map(Number)])
        if (pid !== undefined) signal(pid, "SIGCONT")
      if (d.child.exitCode === null && d.child.signalCode === null) d.child.kill("SIGTERM")
    }
    await Promise.all(
      daemons.map((d) =>
        Promise.race([exited(d.child), new Promise((r) => setTimeout(r, 15_000))]).then(() => d.child.kill("SIGKILL"))
      )
    )
    for (const d of daemons) for (const pid of processesUnder(d.worktrees)) signal(Number(pid), "SIGKILL")
    await github.close()
  }
  /** `spec-orch daemon start` of one host; its output is kept (and a restarted one's appended to it). */
  const startDaemon = (host: string, root: string, worktrees: string, address: string, before = ""): Daemon => {
    const child = spawn(process.execPath, [BIN, "daemon", "start"], {
      cwd: root,
      env: { ...process.env, FORCE_COLOR: "0", GITHUB_TOKEN: github.token, CLUSTER_PG: url, ...options.env },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let output = before
    child.stdout!.on("data", (d) => (output += d))
    child.stderr!.on("data", (d) => (output += d))
    return { host, child, output: () => output, root, worktrees, address }
  }
  const outputs = () => daemons.map((d) => `--- ${d.host}\n${d.output()}`).join("\n")
  /** Files issue "change `k`" on the fake GitHub (closed: no daemon takes it); its number. */
  const addChange = (k: number, state: "open" | "closed") =>
    github.addIssue(REPO, {
      title: `change ${k}`,
      body: `## Builder Prompt\nImplement change ${k}.\n\n## Acceptance Criteria\n- change ${k} works\n`,
      state
    })
  try {
    const seed = join(base, "seed")
    mkdirSync(seed)
    writeFileSync(join(seed, "README.md"), "# widgets\n")
    writeFileSync(join(seed, ".gitignore"), ".spec-orch/\nspec-orch.toml\n")
    writeFileSync(join(seed, "check.mjs"), "process.exit(0)\n")
    writeFileSync(
      join(seed, "gate.policy.yaml"),
      "conditions:\n  builder: { required: true }\n  verification: { required: true }\nprofiles:\n  daemon:\n    disable: []\n"
    )
    git(seed, ["init", "-q", "-b", "main"])
    git(seed, ["add", "-A"])
    git(seed, ["commit", "-qm", "init"])
    git(base, ["init", "-q", "--bare", "-b", "main", bare])
    git(seed, ["remote", "add", "origin", bare])
    git(seed, ["push", "-q", "origin", "main"])
    github.addRepo(REPO, { gitDir: bare })

    const ports = await freePorts(options.hosts * 2)
    for (let i = 0; i < options.hosts; i++) {
      const address = `127.0.0.1:${ports[i]}`
      const hostDir = join(base, `host-${i}`)
      mkdirSync(hostDir)
      const root = join(hostDir, "project")
      git(hostDir, ["clone", "-q", bare, root])
      writeFileSync(
        join(root, "spec-orch.toml"),
        [
          "[issue]",
          'source = "github"',
          "[github]",
          `repo = ${JSON.stringify(REPO)}`,
          `api_url = ${JSON.stringify(github.url)}`,
          "[builder]",
          'adapter = "command"',
          `command = ["node", ${JSON.stringify(agent)}]`,
          "timeout_seconds = 120",
          `env = { SIGNALS = ${JSON.stringify(signals)}, RUNNER_HOST = "host-${i}", WAIT = "${options.agentWaits === false ? 0 : 1}", TICK = "${options.ticks === true ? 1 : 0}" }`,
          "[verification]",
          `check = ${JSON.stringify(options.check?.(signals) ?? ["node", "check.mjs"])}`,
          "[workspace]",
          `root = ${JSON.stringify(join(hostDir, "worktrees"))}`,
          "[sandbox]",
          `writable = [${JSON.stringify(signals)}]`,
          "[daemon]",
          'consume_state = "open"',
          `max_concurrent = ${options.maxConcurrent}`,
          "retry_base_delay_seconds = 1",
          ...(options.daemon?.(i, ports[options.hosts + i]!) ?? ["poll_interval_seconds = 1"]),
          "[cluster]",
          'storage = "postgres"',
          'url_env = "CLUSTER_PG"',
          `runner_address = ${JSON.stringify(address)}`,
          "shard_lock_expiry_seconds = 4",
          ...(options.cluster ?? []),
          ""
        ].join("\n")
      )
      daemons.push(startDaemon(`host-${i}`, root, join(hostDir, "worktrees"), address))
    }

    await until("every runner to register", async () => {
      const n = await onPostgres(url, (sql) =>
        sql<{ n: number }>`SELECT count(*)::int AS n FROM cluster_runners`.pipe(
          Effect.map((r) => Number(r[0]?.n ?? 0)),
          Effect.orElseSucceed(() => 0)
        )
      )
      return n === options.hosts
    }).catch((e) => {
      throw new Error(`${e.message}\n${outputs()}`)
    })
    await new Promise((r) => setTimeout(r, 8_000))
  } catch (e) {
    await stop()
    throw e
  }

  const cluster: Cluster = {
    url,
    bare,
    signals,
    github,
    daemons,
    outputs,
    log: () =>
      existsSync(join(signals, "agent.log"))
        ? readFileSync(join(signals, "agent.log"), "utf8")
            .trim()
            .split("\n")
            .map((l) => {
              const [what, issue, host, turn] = l.split(" ")
              return { what: what as AgentLine["what"], issue: issue!, host: host!, turn: turn! }
            })
        : [],
    submit: (count) => Array.from({ length: count }, (_, i) => `GH-${addChange(i + 1, "open")}`),
    submitNumbers: (numbers) => {
      const open = new Set(numbers)
      const ids: Array<string> = []
      for (let n = 1; n <= Math.max(0, ...numbers); n++) {
        const added = addChange(n, open.has(n) ? "open" : "closed")
        if (added !== n) throw new Error(`submitNumbers: the tracker numbered issue ${n} #${added} (it had issues)`)
        if (open.has(n)) ids.push(`GH-${n}`)
      }
      return ids
    },
    runnerShards: () =>
      onPostgres(url, (sql) =>
        sql<{ runner: string; shards: string }>`SELECT runner, shards FROM so_cluster_runner_shards`.pipe(
          Effect.map(
            (rows) => new Map(rows.map((r) => [r.runner, new Set(JSON.parse(r.shards) as ReadonlyArray<string>)]))
          ),
          Effect.orElseSucceed(() => new Map<string, ReadonlySet<string>>())
        )
      ),
    status: (daemon) =>
      JSON.parse(
        execFileSync(process.execPath, [BIN, "daemon", "status", "--json"], {
          cwd: daemon.root,
          encoding: "utf8",
          env: { ...process.env, CLUSTER_PG: url, GITHUB_TOKEN: github.token }
        })
      ),
    release: () => writeFileSync(join(signals, "release"), ""),
    restart: (daemon) => {
      const i = daemons.indexOf(daemon)
      const again = startDaemon(
        daemon.host,
        daemon.root,
        daemon.worktrees,
        daemon.address,
        `${daemon.output()}--- restarted\n`
      )
      daemons[i] = again
      return again
    },
    stop
  }
  return cluster
}

/** Sends `sig` to `pid`, if it still runs. */
export const signal = (pid: number, sig: NodeJS.Signals) => {
  try {
    process.kill(pid, sig)
  } catch {
    // already gone
  }
}

/** Waits until every issue's agent turn has started, and returns those turns. */
export const awaitTurns = async (cluster: Cluster, ids: ReadonlyArray<string>) => {
  await until(
    "every issue's agent to start",
    () => new Set(cluster.log().flatMap((l) => (l.what === "start" ? [l.issue] : []))).size === ids.length,
    120_000
  ).catch((e) => {
    throw new Error(`${e.message}\n${cluster.outputs()}`)
  })
  return cluster.log().filter((l) => l.what === "start")
}

/** The host running the most of `turns`. */
export const busiest = (turns: ReadonlyArray<AgentLine>) =>
  [...new Set(turns.map((l) => l.host))]
    .map((h) => [h, turns.filter((l) => l.host === h).length] as const)
    .sort((a, b) => b[1] - a[1])[0]![0]

/** Waits until `daemon status` on `from` says every issue is done. */
export const awaitDone = (cluster: Cluster, ids: ReadonlyArray<string>, from: Daemon) =>
  until(
    "every issue to be done",
    () => {
      const r = cluster.status(from)
      return ids.every((id) => r.issues.find((i) => i.issueId === id)?.status === "done")
    },
    120_000
  ).catch((e) => {
    throw new Error(`${e.message}\n${cluster.outputs()}`)
  })

/** The pull requests of `id` and the spec-orch comments on it. */
export const published = (cluster: Cluster, id: string) => ({
  pulls: cluster.github.pulls(REPO).filter((p) => p.head === `spec-orch/${id}`),
  comments: cluster.github
    .comments(REPO, Number(id.slice("GH-".length)))
    .map((c) => /<!-- spec-orch:comment=(\S+) -->/.exec(c.body)?.[1])
    .filter((k) => k !== undefined)
})
