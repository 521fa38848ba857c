/**
 * The state database of a cluster (`[cluster] storage = "postgres"`, docs/cluster.md): every runner and
 * every command of the project opens the cluster's Postgres instead of `<state dir>/state.db`, so the
 * run store, the daemon's store, the evidence ledger and memory are shared by the hosts.
 */
import type { SpecOrchConfig } from "@spec-orch/contract"
import { PgClient } from "@effect/sql-pg"
import { Effect, Layer, Redacted, Schema } from "effect"

/** The cluster's Postgres URL is missing or not a URL. */
export class ClusterUrlMissing extends Schema.TaggedError<ClusterUrlMissing>()("ClusterUrlMissing", {
  variable: Schema.String,
  problem: Schema.String
}) {
  override get message(): string {
    return `[cluster] storage = "postgres": ${this.variable} ${this.problem}; export ${this.variable}=postgres://user:password@host:5432/db (or name another variable in [cluster] url_env)`
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

/** The cluster's Postgres as the state database's SqlClient; fails with `ClusterUrlMissing` when the URL's variable is unusable. */
export const ClusterStateDb = (
  cluster: SpecOrchConfig["cluster"],
  env?: Readonly<Record<string, string | undefined>>
) => Layer.unwrap(Effect.map(clusterUrl(cluster, env), (url) => PgClient.layer({ url: Redacted.make(url) })))
