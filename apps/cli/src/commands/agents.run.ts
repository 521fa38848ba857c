/** Handlers for `spec-orch agents check`: find each adapter's program and, when a model is reachable, run a trivial turn. */
import { Project } from "@spec-orch/contract"
import { type AgentCheck, Agents, type Endpoint, endpointFromEnv, modelCredentials } from "@spec-orch/execution"
import { hostEnvironment } from "@spec-orch/harness"
import { Effect, Option } from "effect"
import { execFileSync } from "node:child_process"
import { mkdirSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { emit, ExitCode, setExitCode, table } from "../Output.js"
import { withPlanes } from "../Planes.js"

const TRIVIAL_PROMPT = "This is a spec-orch preflight check. Reply with the single word OK. Do not change any files."

/** One adapter's preflight result. */
interface Checked {
  readonly adapter: string
  readonly found: boolean
  readonly executable?: string
  readonly version?: string
  /** `true` when a turn ran; `false` with `reason` when it could not be exercised. */
  readonly exercised: boolean
  readonly outcome?: string
  readonly durationMs?: number
  readonly reason?: string
}

/** A scratch git repository for the trivial turn (the agent never sees the user's checkout). */
const scratchRepo = () => {
  const root = mkdtempSync(join(tmpdir(), "spec-orch-agents-check-"))
  const cwd = join(root, "repo")
  mkdirSync(cwd)
  execFileSync("git", ["init", "-q"], { cwd, stdio: "ignore" })
  execFileSync(
    "git",
    [
      "-c",
      "user.email=preflight@spec-orch",
      "-c",
      "user.name=spec-orch",
      "commit",
      "-q",
      "--allow-empty",
      "-m",
      "preflight"
    ],
    { cwd, stdio: "ignore" }
  )
  return { root, cwd, runDir: join(root, "run") }
}

export const check = ({
  agent,
  modelServer,
  json
}: {
  agent: Option.Option<string>
  modelServer: Option.Option<string>
  json: boolean
}) =>
  withPlanes(
    Effect.gen(function* () {
      const project = yield* Project
      const agents = yield* Agents
      const builder = project.config.builder
      const adapter = Option.getOrElse(agent, () => builder.adapter)
      // A preflight should fail fast: the CLIs' own retries (minutes of backoff) are turned off where they can be.
      const host = yield* hostEnvironment
      const fromEnv = endpointFromEnv(host)
      const endpoint: Endpoint | undefined = Option.isSome(modelServer)
        ? { baseUrl: modelServer.value, retries: false }
        : fromEnv !== undefined
          ? { ...fromEnv, retries: false }
          : undefined

      const result: Checked = yield* Effect.gen(function* () {
        const found = yield* agents.check(adapter, builder).pipe(Effect.result)
        if (found._tag === "Failure") return { adapter, found: false, exercised: false, reason: found.failure.message }
        const f: AgentCheck = found.success
        const base = {
          adapter,
          found: true,
          executable: f.executable,
          ...(f.version !== undefined ? { version: f.version } : {})
        }
        const creds = modelCredentials(adapter, builder, host)
        if (endpoint === undefined && creds !== undefined && creds.needed && creds.present.length === 0) {
          return {
            ...base,
            exercised: false,
            reason: `no credentials: set one of ${creds.variables.join(", ")}, or pass --model-server URL`
          }
        }
        const scratch = scratchRepo()
        const outcome = yield* agents
          .run({
            adapter,
            cwd: scratch.cwd,
            runDir: scratch.runDir,
            prompt: TRIVIAL_PROMPT,
            builder: {
              ...builder,
              timeout_seconds: Math.min(builder.timeout_seconds, 180),
              stall_timeout_seconds: Math.min(builder.stall_timeout_seconds, 120)
            },
            ...(endpoint !== undefined ? { endpoint } : {})
          })
          .pipe(Effect.ensuring(Effect.sync(() => rmSync(scratch.root, { recursive: true, force: true }))))
        return {
          ...base,
          exercised: true,
          outcome: outcome.kind,
          durationMs: outcome.durationMs,
          ...(outcome.kind !== "completed" ? { reason: outcome.message ?? outcome.kind } : {})
        }
      })

      // "Found but not exercised" has proved nothing about the agent working: it is not a pass. (The
      // `command` adapter needs no model and is always exercised.)
      const ok = result.found && result.exercised && result.outcome === "completed"
      if (!ok) yield* setExitCode(ExitCode.failure)
      yield* emit(
        json,
        { ok, agents: [result], ...(endpoint !== undefined ? { endpoint: endpoint.baseUrl } : {}) },
        () => {
          const status = !result.found
            ? "not usable"
            : !result.exercised
              ? `binary found, version ${result.version ?? "unknown"}, not exercised: ${result.reason}`
              : result.outcome === "completed"
                ? `ok: a trivial turn completed in ${((result.durationMs ?? 0) / 1000).toFixed(1)} s`
                : `turn ${result.outcome}: ${result.reason}`
          return [
            table(
              ["ADAPTER", "EXECUTABLE", "VERSION", "STATUS"],
              [[result.adapter, result.executable ?? "-", result.version ?? "-", status]]
            ),
            ...(!result.found && result.reason !== undefined ? ["", result.reason] : [])
          ]
        }
      )
    })
  )
