/**
 * The state database of a cluster (`[cluster] storage = "postgres"`, docs/cluster.md): every runner and
 * every command of the project opens the cluster's Postgres instead of `<state dir>/state.db`, so the
 * run store, the daemon's store, the evidence ledger and memory are shared by the hosts.
 */
import type { SpecOrchConfig } from "@spec-orch/contract"
import { PgClient } from "@effect/sql-pg"
import { renderError } from "@spec-orch/contract"
import { Effect, Layer, Redacted, Schema } from "effect"
import { SqlClient } from "effect/sql"

/** The cluster's Postgres URL is missing or not a URL. */
export class ClusterUrlMissing extends Schema.TaggedError<ClusterUrlMissing>()("ClusterUrlMissing", {
  variable: Schema.String,
  problem: Schema.String
}) {
  override get message(): string {
    return `[cluster] storage = "postgres": ${this.variable} ${this.problem}; export ${this.variable}=postgres://user:password@host:5432/db (or name another variable in [cluster] url_env)`
  }
}

/** `host:port` of a Postgres URL (the default port when it names none): how messages name the server without its secrets. */
export const pgServerOf = (url: string): string => {
  if (!URL.canParse(url)) return "(not a URL)"
  const u = new URL(url)
  return `${u.hostname || "localhost"}:${u.port || "5432"}`
}

/** A driver's text about the server at `url` without its credentials: the URL itself, or any `user:password@`. */
export const withoutUrlSecrets = (text: string, url: string): string =>
  text
    .split(url)
    .join("<url>")
    .replace(/\/\/[^@/\s]*@/g, "//…@")

/** The cluster's Postgres did not answer when a command opened it. */
export class ClusterPostgresUnreachable extends Schema.TaggedError<ClusterPostgresUnreachable>()(
  "ClusterPostgresUnreachable",
  {
    /** `host:port`, never the URL (it holds the password). */
    server: Schema.String,
    variable: Schema.String,
    problem: Schema.String
  }
) {
  override get message(): string {
    return `[cluster] storage = "postgres": the cluster's Postgres at ${this.server} (URL from ${this.variable}) does not answer: ${this.problem}; start the server, or fix the host, port, user, password or database in ${this.variable} (\`spec-orch doctor\` checks it)`
  }
}

/** The cluster's Postgres URL from the variable `[cluster] url_env` names. */
export const clusterUrl = (
  cluster: SpecOrchConfig["cluster"],
  env: Readonly<Record<string, string | undefined>> = process.env
): Effect.Effect<string, ClusterUrlMissing> => {
  const url = env[cluster.url_env] ?? ""
  if (url === "") return Effect.fail(new ClusterUrlMissing({ variable: cluster.url_env, problem: "is not set" }))
  if (!/^postgres(ql)?:\/\//.test(url) || !URL.canParse(url))
    return Effect.fail(new ClusterUrlMissing({ variable: cluster.url_env, problem: "is not a postgres:// URL" }))
  return Effect.succeed(url)
}

/**
 * The cluster's Postgres as the state database's SqlClient. Fails with `ClusterUrlMissing` when the URL's
 * variable is unusable, and with `ClusterPostgresUnreachable` when the server does not answer `SELECT 1`:
 * before any command works on it, not as a failed query half-way.
 */
export const ClusterStateDb = (
  cluster: SpecOrchConfig["cluster"],
  env?: Readonly<Record<string, string | undefined>>
) =>
  Layer.unwrap(
    Effect.map(clusterUrl(cluster, env), (url) => {
      const unreachable = (cause: unknown) =>
        new ClusterPostgresUnreachable({
          server: pgServerOf(url),
          variable: cluster.url_env,
          problem: withoutUrlSecrets(renderError(cause), url)
        })
      const answers = Layer.effectDiscard(
        SqlClient.SqlClient.use((sql) => sql`SELECT 1`).pipe(Effect.mapError(unreachable))
      )
      // The pool connects on its first query: the probe's.
      return answers.pipe(Layer.provideMerge(PgClient.layer({ url: Redacted.make(url) })))
    })
  )
