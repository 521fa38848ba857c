/**
 * `[cluster] max_concurrent_per_host` (docs/cluster.md): shards decide where a run executes, so one host
 * can get more runs than it can hold; its agent turns then wait for a slot of that host. Two real daemons
 * on one Postgres, one slot each, five issues whose agents wait for the test's word: no host ever runs
 * two turns at once (the agents' own log of starts and ends, per host), the runs waiting say so, and every
 * issue still ends with one pull request. Fails when SPEC_ORCH_PG_URL is not set, unless
 * SPEC_ORCH_SKIP_POSTGRES=1.
 */
import { assert, describe, it } from "@effect/vitest"
import { execFileSync } from "node:child_process"
import { existsSync } from "node:fs"
import { awaitDone, BIN, type Cluster, pg, published, startCluster, until } from "./utils/cluster.js"

const ISSUES = 5

describe.skipIf(!pg.run)(pg.title("agent slots per host on a cluster"), () => {
  it("no host runs more agent turns at once than max_concurrent_per_host; the rest wait and then run", async () => {
    assert.isTrue(existsSync(BIN), `build the CLI first: cd apps/cli && npx tsup (looked for ${BIN})`)
    let cluster: Cluster | undefined
    try {
      cluster = await startCluster({ hosts: 2, maxConcurrent: ISSUES, cluster: ["max_concurrent_per_host = 1"] })
      const c = cluster
      const more = (e: Error) => {
        throw new Error(`${e.message}\n${c.outputs()}`)
      }
      const ids = c.submit(ISSUES)
      // Every run is in flight (the cluster's cap is 5), but at most one turn per host has started.
      await until("every run to be in flight", () => c.status(c.daemons[0]!).claims.length === ISSUES, 60_000).catch(
        more
      )
      await until("a turn to start", () => c.log().some((l) => l.what === "start"), 60_000).catch(more)
      await new Promise((r) => setTimeout(r, 5_000))
      const starts = c.log().filter((l) => l.what === "start")
      for (const host of new Set(starts.map((l) => l.host)))
        assert.strictEqual(
          starts.filter((l) => l.host === host).length,
          1,
          `one turn at a time on ${host}: ${JSON.stringify(starts)}`
        )
      assert.isAtMost(starts.length, 2)
      const waiting = ids.find((id) => !starts.some((l) => l.issue === id))!

      c.release()
      await awaitDone(c, ids, c.daemons[0]!)
      // Replayed from the agents' log: per host, a turn starts only after the one before it ended.
      const running = new Map<string, number>()
      for (const l of c.log()) {
        const n = (running.get(l.host) ?? 0) + (l.what === "start" ? 1 : -1)
        assert.isAtMost(n, 1, `${l.host} ran two turns at once: ${JSON.stringify(c.log())}`)
        running.set(l.host, n)
      }
      for (const id of ids)
        assert.strictEqual(published(c, id).pulls.length, 1, `${id} has one pull request\n${c.outputs()}`)
      // A run that waited said so in its log.
      const events = execFileSync(process.execPath, [BIN, "logs", waiting, "--json"], {
        cwd: c.daemons[0]!.root,
        encoding: "utf8",
        env: { ...process.env, CLUSTER_PG: c.url, GITHUB_TOKEN: c.github.token }
      })
      assert.include(events, "waiting for an agent slot", `${waiting}'s log says it waited`)
    } finally {
      await cluster?.stop()
    }
  }, 300_000)
})
