/**
 * A rolling restart of a cluster (docs/cluster-deploy.md): three real daemons on one Postgres, runs in
 * their agent turns; the busiest runner is stopped the way systemd stops it (SIGTERM): it exits 0, its
 * runs start again on the others; then it starts again and takes shards back while runs are in flight.
 * Every issue still ends once, with one pull request and one summary comment. Fails when
 * SPEC_ORCH_PG_URL is not set, unless SPEC_ORCH_SKIP_POSTGRES=1.
 */
import { assert, describe, it } from "@effect/vitest"
import { existsSync } from "node:fs"
import {
  awaitDone,
  awaitTurns,
  BIN,
  busiest,
  type Cluster,
  exited,
  pg,
  published,
  startCluster,
  until
} from "./utils/cluster.js"

const ISSUES = 6

describe.skipIf(!pg.run)(pg.title("a rolling restart of the cluster"), () => {
  it("a runner stopped with SIGTERM hands its runs over and takes shards again when it is back; every issue ends once", async () => {
    assert.isTrue(existsSync(BIN), `build the CLI first: cd apps/cli && npx tsup (looked for ${BIN})`)
    let cluster: Cluster | undefined
    try {
      cluster = await startCluster({ hosts: 3, maxConcurrent: ISSUES })
      const c = cluster
      const more = (e: Error) => {
        throw new Error(`${e.message}\n${c.outputs()}`)
      }
      const ids = c.submit(ISSUES)
      const started = await awaitTurns(c, ids)
      const host = busiest(started)
      const stopping = c.daemons.find((d) => d.host === host)!
      const its = started.filter((l) => l.host === host).map((l) => l.issue)

      stopping.child.kill("SIGTERM")
      await exited(stopping.child)
      assert.strictEqual(stopping.child.exitCode, 0, `a stopped runner exits 0\n${stopping.output()}`)
      await until(
        "the stopped runner's runs to start on the others",
        () => its.every((issue) => c.log().some((l) => l.what === "start" && l.issue === issue && l.host !== host)),
        60_000
      ).catch(more)

      // Back again: it joins and takes shards while the runs are in their turns.
      const back = c.restart(stopping)
      await until(
        "the runner to join again",
        () => back.output().split("--- restarted")[1]!.includes("joining"),
        60_000
      ).catch(more)
      await new Promise((r) => setTimeout(r, 10_000))
      c.release()
      await awaitDone(c, ids, back)

      for (const id of ids) {
        const { pulls, comments } = published(c, id)
        assert.strictEqual(pulls.length, 1, `${id} has one pull request\n${c.outputs()}`)
        assert.strictEqual(comments.length, 1, `${id} has one comment\n${c.outputs()}`)
      }
      const ended = c.log().filter((l) => l.what === "end")
      for (const id of its)
        assert.isFalse(
          ended.some((l) => l.issue === id && l.host === host && started.some((s) => s.turn === l.turn)),
          `${id}'s turn on the stopped runner did not go on after it stopped`
        )
    } finally {
      await cluster?.stop()
    }
  }, 400_000)
})
