/**
 * `spec-orch doctor`: every precondition of a run checked on this machine, each with what was found
 * and, when it is a problem, how to fix it — git and the repository, the OS sandbox, the agent and its
 * credentials, the LLM roles' keys, the tracker token, the state database, the disk for worktrees and
 * what worktrees get of the project's installed dependencies.
 * It looks and reports; it changes nothing.
 */
import { Project, renderError } from "@spec-orch/contract"
import { Agents, dependencyFindings, modelCredentials, Sandbox } from "@spec-orch/execution"
import { hostEnvironment, LLM_ROLES, Models } from "@spec-orch/harness"
import { SqliteClient } from "@spec-orch/sqlite"
import { Effect, FileSystem, type Layer, Path } from "effect"
import { ChildProcessSpawner } from "effect/process"
import { SqlClient } from "effect/sql"
import { statfsSync } from "node:fs"
import { homedir } from "node:os"
import { clusterChecks } from "../cluster/ClusterCheck.js"
import { runGit } from "../trackers/internal/git.js"

/** One check's answer. `warn` does not stop a run; `fail` would. */
export interface DoctorCheck {
  readonly name: string
  readonly status: "ok" | "warn" | "fail"
  readonly detail: string
  /** What to do about it, when it is not ok. */
  readonly fix?: string
}

const ok = (name: string, detail: string): DoctorCheck => ({ name, status: "ok", detail })
const warn = (name: string, detail: string, fix: string): DoctorCheck => ({ name, status: "warn", detail, fix })
const fail = (name: string, detail: string, fix: string): DoctorCheck => ({ name, status: "fail", detail, fix })

const GB = 1024 ** 3

/**
 * The state database's check: its journal mode once `stateDatabase` opened it; that there is none yet when
 * the file does not exist (the layer should then open nothing that stays, so that doctor changes
 * nothing); or why it does not open, with the fix.
 */
const stateDatabaseCheck = <E, R>(file: string, shown: string, stateDatabase: Layer.Layer<SqlClient.SqlClient, E, R>) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const exists = yield* fs.exists(file).pipe(Effect.orElseSucceed(() => true))
    const opened = yield* SqlClient.SqlClient.use(
      (sql) => sql<{ readonly journal_mode: string }>`PRAGMA journal_mode`
    ).pipe(Effect.provide(stateDatabase), Effect.result)
    if (opened._tag === "Success")
      return exists
        ? ok("state database", `${shown} (${opened.success[0]?.journal_mode ?? "?"})`)
        : ok("state database", `${shown}: none yet, the first run creates it`)
    const error = opened.failure
    return error instanceof SqliteClient.SqliteOpenError
      ? fail(
          "state database",
          error.summary,
          error.fix ?? "check the disk, and that no other program holds the file ([workspace] state_dir)"
        )
      : fail(
          "state database",
          `${file} cannot be read: ${renderError(error)}`,
          "check the permissions of the state directory ([workspace] state_dir)"
        )
  })

/**
 * Runs every check, in the order a run needs them. `stateDatabase` opens the state database for its
 * check: when it fails, that check fails with the reason and the fix, and the other checks still run.
 */
export const doctorChecks = <E, R>(stateDatabase: Layer.Layer<SqlClient.SqlClient, E, R>) =>
  Effect.gen(function* () {
    const project = yield* Project
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const host = yield* hostEnvironment
    const config = project.config
    const checks: Array<DoctorCheck> = []

    // git and the repository
    const version = yield* runGit(project.root, ["--version"])
    if (version.exitCode !== 0) {
      checks.push(fail("git", "git did not run", "install git and put it on PATH"))
    } else {
      const head = yield* runGit(project.root, ["rev-parse", "--verify", "-q", "HEAD"])
      const top = yield* runGit(project.root, ["rev-parse", "--show-toplevel"])
      checks.push(
        top.exitCode !== 0
          ? fail(
              "git",
              `${version.stdout.trim()}; ${project.root} is not in a git repository`,
              "run `git init` and commit once"
            )
          : head.exitCode !== 0
            ? fail(
                "git",
                `${version.stdout.trim()}; the repository has no commit yet`,
                "commit once: runs branch from a commit"
              )
            : ok("git", `${version.stdout.trim()}; repository ${top.stdout.trim()}`)
      )
    }

    // the OS sandbox
    const sandbox = yield* Sandbox
    const probe = yield* sandbox.probe
    const mode = config.sandbox.mode
    if (mode === "off") {
      checks.push(
        warn(
          "sandbox",
          "off: agents and verification steps run unconfined, with your user's access to files and network",
          'set [sandbox] mode = "best-effort" or "required"'
        )
      )
    } else if (!probe.available) {
      const detail = `${mode}: the box cannot start here — ${probe.problem ?? "bubblewrap is unavailable"}`
      checks.push(
        mode === "required"
          ? fail("sandbox", detail, "fix that, or set [sandbox] mode")
          : warn("sandbox", `${detail}; runs go unconfined`, "fix that to confine agents and verification")
      )
    } else if (!probe.network) {
      checks.push(
        warn(
          "sandbox",
          `${mode}: bubblewrap ${probe.version ?? ""} works, but socat is missing, so a boxed agent reaches no model provider`,
          "install socat (Debian/Ubuntu: apt-get install socat)"
        )
      )
    } else {
      checks.push(
        ok(
          "sandbox",
          `${mode}: bubblewrap ${probe.version ?? ""} and socat work; agents and steps run confined (see docs/sandbox.md)`
        )
      )
    }

    // the agent
    const agents = yield* Agents
    const adapter = config.builder.adapter
    const found = yield* agents.check(adapter, config.builder).pipe(Effect.result)
    if (found._tag === "Failure") {
      checks.push(
        fail(
          `agent ${adapter}`,
          found.failure.message,
          "install it or set [builder] executable; `spec-orch agents check` runs a trivial turn"
        )
      )
    } else {
      const creds = modelCredentials(adapter, config.builder, host)
      const where = `${found.success.executable}${found.success.version !== undefined ? ` ${found.success.version}` : ""}`
      if (
        creds !== undefined &&
        creds.needed &&
        creds.present.length === 0 &&
        host.SPEC_ORCH_AGENT_ENDPOINT === undefined
      ) {
        checks.push(
          fail(
            `agent ${adapter}`,
            `${where}; no credentials: none of ${creds.variables.join(", ")} is set (its private home carries no login)`,
            `set one of ${creds.variables.join(", ")}, or SPEC_ORCH_AGENT_ENDPOINT for a gateway or local model server`
          )
        )
      } else {
        checks.push(
          ok(
            `agent ${adapter}`,
            `${where}${creds?.present.length ? `; credentials from ${creds.present.join(", ")}` : ""}`
          )
        )
      }
    }

    // the LLM roles: only those the configuration uses
    const models = yield* Models
    for (const role of LLM_ROLES) {
      const r = models.role(role)
      const needed = role === "reviewer" && config.reviewer.adapter === "llm"
      if (r.plan === undefined) {
        if (needed)
          checks.push(
            fail(
              `model ${role}`,
              r.problem?.message ?? "no model configured",
              'configure [reviewer] model (or model_chain), or set [reviewer] adapter = "local"'
            )
          )
        else if (role === "planner") checks.push(ok("model planner", "none configured: missions are planned offline"))
        continue
      }
      if (r.problem !== undefined) {
        const message = r.problem.message
        checks.push(
          needed || role === "planner"
            ? fail(`model ${role}`, message, "set the key the message names, or change the role's model")
            : warn(`model ${role}`, message, "set the key the message names")
        )
      } else {
        checks.push(ok(`model ${role}`, r.usable.map((m) => m.id).join(" → ")))
      }
    }

    // the tracker
    const source = config.issue.source
    if (source === "linear" || source === "github") {
      const variable = source === "linear" ? config.linear.token_env : config.github.token_env
      checks.push(
        (host[variable] ?? "") === ""
          ? fail(
              `tracker ${source}`,
              `${variable} is not set`,
              `export ${variable}=… (a ${source === "linear" ? "Linear API key" : "GitHub token with repo scope"})`
            )
          : ok(`tracker ${source}`, `token from ${variable}`)
      )
    } else {
      checks.push(ok("tracker", `issues from ${config.issue.fixtures_dir} (no tracker configured)`))
    }

    // traces: always to the run's artifacts; to a collector when an endpoint is set (docs/traces.md)
    const endpoint =
      config.telemetry.otlp_endpoint ?? host.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? host.OTEL_EXPORTER_OTLP_ENDPOINT
    const unset = Object.entries(config.telemetry.headers_env).filter(([, variable]) => (host[variable] ?? "") === "")
    if (endpoint === undefined || endpoint.trim() === "") {
      checks.push(ok("traces", "to each run's trace.jsonl (no OTLP collector: [telemetry] otlp_endpoint is not set)"))
    } else if (!URL.canParse(endpoint) || !/^https?:$/.test(new URL(endpoint).protocol)) {
      checks.push(
        fail(
          "traces",
          `the OTLP endpoint ${JSON.stringify(endpoint)} is not an http(s) URL`,
          "set [telemetry] otlp_endpoint (or OTEL_EXPORTER_OTLP_ENDPOINT) to the collector's address, e.g. http://127.0.0.1:4318"
        )
      )
    } else if (unset.length > 0) {
      checks.push(
        warn(
          "traces",
          `exported to ${endpoint} as ${config.telemetry.service_name}, but ${unset.map(([h, v]) => `${v} (header ${h})`).join(", ")} is not set: spans go without that header`,
          `export ${unset.map(([, v]) => v).join(", ")}, or remove it from [telemetry] headers_env`
        )
      )
    } else {
      checks.push(ok("traces", `to each run's trace.jsonl and to ${endpoint} as ${config.telemetry.service_name}`))
    }

    // [notify] webhooks: each URL comes from a variable; one that is not set gets nothing (docs/configuration.md)
    const hooks = config.notify.webhooks
    if (hooks.length > 0) {
      const missing = hooks.filter((h) => (host[h.url_env] ?? "").trim() === "").map((h) => h.url_env)
      checks.push(
        missing.length > 0
          ? warn(
              "notify",
              `${missing.join(", ")} ${missing.length === 1 ? "is" : "are"} not set: those webhooks get no notices`,
              `export ${missing.map((v) => `${v}=https://…`).join(" ")}, or remove the webhook from [notify]`
            )
          : ok("notify", hooks.map((h) => `${h.kind} webhook from ${h.url_env}: ${h.events.join(", ")}`).join("; "))
      )
    }

    // the state database (a cluster's is its Postgres: the cluster checks below)
    if (config.cluster.storage !== "postgres") {
      const file = path.join(project.stateDir, "state.db")
      checks.push(yield* stateDatabaseCheck(file, path.relative(project.root, file) || file, stateDatabase))
    }

    // [cluster]: the shared Postgres and this runner's address (docs/cluster.md)
    checks.push(...(yield* clusterChecks(config.cluster, host)))

    // disk for worktrees
    const cacheHome = host.XDG_CACHE_HOME ?? path.join(host.HOME ?? homedir(), ".cache")
    const root =
      config.workspace.root === undefined
        ? path.join(cacheHome, "spec-orch", "worktrees")
        : project.resolve(config.workspace.root)
    let probeDir = root
    while (!(yield* fs.exists(probeDir).pipe(Effect.orElseSucceed(() => false))) && path.dirname(probeDir) !== probeDir)
      probeDir = path.dirname(probeDir)
    const free = Effect.try(() => {
      const s = statfsSync(probeDir)
      return s.bavail * s.bsize
    })
    const bytes = yield* free.pipe(Effect.option)
    if (bytes._tag === "Some") {
      const gb = bytes.value / GB
      checks.push(
        gb < 1
          ? fail(
              "disk",
              `${gb.toFixed(2)} GB free for worktrees under ${root}`,
              "free space, or point [workspace] root at a larger disk"
            )
          : gb < 5
            ? warn(
                "disk",
                `${gb.toFixed(1)} GB free for worktrees under ${root}`,
                "each worktree is a checkout of the repository; keep a few GB free"
              )
            : ok("disk", `${gb.toFixed(0)} GB free for worktrees under ${root}`)
      )
    }

    // what worktrees get of the installed dependencies
    const spawner = yield* ChildProcessSpawner.ChildProcessSpawner
    const ignored = (paths: ReadonlyArray<string>): Effect.Effect<ReadonlySet<string>> =>
      runGit(project.root, ["check-ignore", "--", ...paths]).pipe(
        Effect.map((r) => new Set(r.stdout.split("\n").filter((l) => l !== ""))),
        Effect.provideService(ChildProcessSpawner.ChildProcessSpawner, spawner)
      )
    for (const f of yield* dependencyFindings(project.root, {
      provision: config.workspace.provision,
      searchPath: host.PATH ?? "",
      virtualEnv: host.VIRTUAL_ENV,
      host,
      ignored
    })) {
      checks.push(f.status === "warn" ? warn("dependencies", f.detail, f.fix ?? "") : ok("dependencies", f.detail))
    }
    return checks
  })
