/**
 * `doctor`'s `[cluster]` checks against a real PostgreSQL server and real sockets: a reachable server and
 * a free runner address pass; an unset variable, a server that does not answer and an address in use fail
 * with what to do; the password in the URL is never shown. Fails when SPEC_ORCH_PG_URL is not set,
 * unless SPEC_ORCH_SKIP_POSTGRES=1.
 */
import { assert, describe, it } from "@effect/vitest"
import { defaultConfig } from "@spec-orch/contract"
import { requirePostgres } from "@spec-orch/test-kit"
import { Effect, Fiber } from "effect"
import { TestClock } from "effect/testing"
import { createServer, type Server } from "node:net"
import { clusterChecks, PG_PROBE_SECONDS } from "../../src/cluster/ClusterCheck.js"

const pg = requirePostgres()

const listening = Effect.acquireRelease(
  Effect.callback<Server>((resume) => {
    const s = createServer()
    s.listen(0, "127.0.0.1", () => resume(Effect.succeed(s)))
  }),
  (s) => Effect.callback<void>((resume) => void s.close(() => resume(Effect.void)))
)

const cluster = (runner_address: string) => ({
  ...defaultConfig().cluster,
  storage: "postgres" as const,
  url_env: "CLUSTER_PG",
  runner_address
})

describe.skipIf(!pg.run)(pg.title("doctor [cluster] checks"), () => {
  it.effect("says single host for the default", () =>
    Effect.gen(function* () {
      const checks = yield* clusterChecks(defaultConfig().cluster, {})
      assert.deepStrictEqual(
        checks.map((c) => [c.name, c.status]),
        [["cluster", "ok"]]
      )
    })
  )

  it.effect("fails a server that accepts connections and never answers, after its bound on the clock", () =>
    Effect.gen(function* () {
      const silent = yield* listening
      const port = (silent.address() as { port: number }).port
      const url = `postgres://spec:pw@127.0.0.1:${port}/db`
      const checking = yield* Effect.forkChild(clusterChecks(cluster("127.0.0.1:0"), { CLUSTER_PG: url }))
      yield* TestClock.adjust(`${PG_PROBE_SECONDS} seconds`)
      const checks = yield* Fiber.join(checking)
      assert.strictEqual(checks[0]!.status, "fail")
      assert.match(checks[0]!.detail, new RegExp(`no answer within ${PG_PROBE_SECONDS} s`))
    }).pipe(Effect.scoped)
  )

  it.live(
    "passes a reachable server and a free address; fails an address in use, a dead server and an unset variable",
    () =>
      Effect.gen(function* () {
        const server = yield* listening
        const port = (server.address() as { port: number }).port
        const free = yield* Effect.callback<number>((resume) => {
          const s = createServer().listen(0, "127.0.0.1", () => {
            const p = (s.address() as { port: number }).port
            s.close(() => resume(Effect.succeed(p)))
          })
        })
        const good = yield* clusterChecks(cluster(`127.0.0.1:${free}`), { CLUSTER_PG: pg.url })
        assert.deepStrictEqual(
          good.map((c) => [c.name, c.status]),
          [
            ["cluster postgres", "ok"],
            ["cluster runner", "ok"]
          ]
        )

        const busy = yield* clusterChecks(cluster(`127.0.0.1:${port}`), { CLUSTER_PG: pg.url })
        assert.strictEqual(busy[1]!.status, "fail")
        assert.match(busy[1]!.detail, new RegExp(`127\\.0\\.0\\.1:${port} is in use`))

        const dead = new URL(pg.url!)
        dead.port = String(free)
        dead.password = "s3cret-pw"
        const down = yield* clusterChecks(cluster(`127.0.0.1:${free}`), { CLUSTER_PG: dead.toString() })
        assert.strictEqual(down[0]!.status, "fail")
        assert.match(down[0]!.detail, new RegExp(`127\\.0\\.0\\.1:${free} \\(URL from CLUSTER_PG\\) does not answer`))
        assert.notInclude(JSON.stringify(down), "s3cret-pw")

        const unset = yield* clusterChecks(cluster(`127.0.0.1:${free}`), {})
        assert.deepStrictEqual([unset[0]!.status, unset[0]!.detail], ["fail", "CLUSTER_PG is not set"])
        assert.match(unset[0]!.fix!, /export CLUSTER_PG=postgres:\/\//)
      }).pipe(Effect.scoped)
  )
})
