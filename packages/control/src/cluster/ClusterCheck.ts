/**
 * `spec-orch doctor`'s `[cluster]` checks: with `storage = "postgres"`, the URL's variable is set, the
 * server answers a query, and this host can listen on its runner address. The URL is never shown
 * (it carries the password): only its host and port.
 */
import type { SpecOrchConfig } from "@spec-orch/contract"
import { PgClient } from "@effect/sql-pg"
import { Duration, Effect, Fiber, Option, Redacted, Schema } from "effect"
import { SqlClient } from "effect/sql"
import { pgServerOf, withoutUrlSecrets } from "./ClusterState.js"
import { createServer } from "node:net"

/** One check's answer, as `doctor` prints it. */
export interface ClusterCheck {
  readonly name: string
  readonly status: "ok" | "warn" | "fail"
  readonly detail: string
  readonly fix?: string
}

/** Splits `host:port` (IPv6 in brackets). */
export const splitAddress = (address: string): { readonly host: string; readonly port: number } => {
  const at = address.lastIndexOf(":")
  return { host: address.slice(0, at).replace(/^\[|\]$/g, ""), port: Number(address.slice(at + 1)) }
}

/** Whether this host can listen on `host:port` now (undefined), or why not. */
export const bindProblem = (address: string): Effect.Effect<string | undefined> =>
  Effect.callback<string | undefined>((resume) => {
    const { host, port } = splitAddress(address)
    const server = createServer()
    server.once("error", (e: NodeJS.ErrnoException) =>
      resume(
        Effect.succeed(
          e.code === "EADDRINUSE"
            ? `${address} is in use (another runner or program listens there)`
            : e.code === "EADDRNOTAVAIL"
              ? `${host} is not an address of this host`
              : `${address}: ${e.message}`
        )
      )
    )
    server.listen(port, host, () => server.close(() => resume(Effect.succeed(undefined))))
  })

/** This host cannot listen on `[cluster] runner_address` (found before the runner joins the cluster). */
export class RunnerAddressUnusable extends Schema.TaggedError<RunnerAddressUnusable>()("RunnerAddressUnusable", {
  address: Schema.String,
  problem: Schema.String
}) {
  override get message(): string {
    return `[cluster] runner_address = "${this.address}": cannot listen there: ${this.problem}; set runner_address to an address of this host and a free port (if a daemon of this host holds it, stop that daemon first)`
  }
}

/** Fails with `RunnerAddressUnusable` unless this host can listen on `address` now. */
export const checkRunnerAddress = (address: string): Effect.Effect<void, RunnerAddressUnusable> =>
  Effect.flatMap(bindProblem(address), (problem) =>
    problem === undefined ? Effect.void : Effect.fail(new RunnerAddressUnusable({ address, problem }))
  )

/** Runs `SELECT 1` on the server; the failure's text with the URL's secrets left out. */
const pgProbe = (url: string): Effect.Effect<string | undefined> =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    yield* sql`SELECT 1`
  }).pipe(
    Effect.provide(PgClient.layer({ url: Redacted.make(url), connectTimeout: Duration.seconds(5) })),
    Effect.scoped,
    Effect.match({
      onSuccess: () => undefined,
      onFailure: (e) => withoutUrlSecrets(e instanceof Error ? e.message : String(e), url)
    })
  )

/** How long `doctor` waits for the cluster's Postgres to answer `SELECT 1`. */
export const PG_PROBE_SECONDS = 10

/**
 * The problem with the server at `url`, or undefined when it answers. A server that accepts the
 * connection and never answers is a problem too: the driver's connect cannot be interrupted, so the probe
 * is left to end on its own and the check says so after PG_PROBE_SECONDS (on the Clock).
 */
export const pgProblem = (url: string): Effect.Effect<string | undefined> =>
  Effect.gen(function* () {
    const probe = yield* Effect.forkDetach(pgProbe(url))
    const answer = yield* Fiber.join(probe).pipe(Effect.timeoutOption(Duration.seconds(PG_PROBE_SECONDS)))
    if (Option.isSome(answer)) return answer.value
    yield* Effect.forkDetach(Fiber.interrupt(probe))
    return `no answer within ${PG_PROBE_SECONDS} s (the server accepts connections but does not reply)`
  })

/** The `[cluster]` checks (one line for the single-host default). */
export const clusterChecks = (
  cluster: SpecOrchConfig["cluster"],
  env: Readonly<Record<string, string | undefined>>
): Effect.Effect<Array<ClusterCheck>> =>
  Effect.gen(function* () {
    if (cluster.storage === "sqlite")
      return [
        {
          name: "cluster",
          status: "ok",
          detail: 'single host: one daemon per state database ([cluster] storage = "sqlite")'
        }
      ]
    const checks: Array<ClusterCheck> = []
    const url = env[cluster.url_env] ?? ""
    if (url === "") {
      checks.push({
        name: "cluster postgres",
        status: "fail",
        detail: `${cluster.url_env} is not set`,
        fix: `export ${cluster.url_env}=postgres://user:password@host:5432/db (or name another variable in [cluster] url_env)`
      })
    } else if (!URL.canParse(url) || !/^postgres(ql)?:$/.test(new URL(url).protocol)) {
      checks.push({
        name: "cluster postgres",
        status: "fail",
        detail: `${cluster.url_env} is not a postgres:// URL`,
        fix: `set ${cluster.url_env} to postgres://user:password@host:5432/db`
      })
    } else {
      const problem = yield* pgProblem(url)
      checks.push(
        problem === undefined
          ? {
              name: "cluster postgres",
              status: "ok",
              detail: `${pgServerOf(url)} answers (URL from ${cluster.url_env})`
            }
          : {
              name: "cluster postgres",
              status: "fail",
              detail: `${pgServerOf(url)} (URL from ${cluster.url_env}) does not answer: ${problem}`,
              fix: "start the server, or fix the host, port, user, password or database in the URL"
            }
      )
    }
    const address = cluster.runner_address!
    const bind = yield* bindProblem(address)
    checks.push(
      bind === undefined
        ? {
            name: "cluster runner",
            status: "ok",
            detail: `can listen on ${address}; shard groups ${cluster.shard_groups.join(", ")}`
          }
        : {
            name: "cluster runner",
            status: "fail",
            detail: `cannot listen on the runner address: ${bind}`,
            fix: "set [cluster] runner_address to an address of this host and a free port (a running daemon of this host holds it: stop it first)"
          }
    )
    return checks
  })
