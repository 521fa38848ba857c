/**
 * Placement on a cluster (docs/cluster.md, "Throughput, and what limits it"): the daemon sends each new run
 * to the runner with the most free agent slots, instead of wherever its shard's hash falls. Three real
 * daemons on one Postgres, two slots each, six issues whose agents wait for the test's word. The issues are
 * chosen so that every run's own shard is held by one host: left to the hash, that host would run two turns
 * and four would wait for its slots. Placed, all six run at once, two per host, none waits, and at least four
 * were placed by a salt. Closing the issues of salted runs cancels them on their hosts: their agents are
 * stopped and they publish nothing, so the daemon found each placed run's execution. Fails when
 * SPEC_ORCH_PG_URL is not set, unless SPEC_ORCH_SKIP_POSTGRES=1.
 */
import { assert, describe, it } from "@effect/vitest"
import { execFile } from "node:child_process"
import { existsSync } from "node:fs"
import { promisify } from "node:util"
import { awaitDone, BIN, type Cluster, ownShards, pg, published, REPO, startCluster, until } from "./utils/cluster.js"

const execFileAsync = promisify(execFile)

/**
 * A read command of the CLI in the first host's project, as `--json`. Never synchronous: `explain` asks the
 * fake GitHub, which answers from this process, for the issue's title.
 */
const cliJson = async (c: Cluster, args: ReadonlyArray<string>) =>
  (
    await execFileAsync(process.execPath, [BIN, ...args], {
      cwd: c.daemons[0]!.root,
      encoding: "utf8",
      env: { ...process.env, CLUSTER_PG: c.url, GITHUB_TOKEN: c.github.token }
    })
  ).stdout

/** Closes issue `number` on the fake GitHub, as a person would (its REST API). */
const closeIssue = async (c: Cluster, number: number) => {
  const response = await fetch(`${c.github.url}/repos/${REPO}/issues/${number}`, {
    method: "PATCH",
    headers: { authorization: `token ${c.github.token}`, "content-type": "application/json" },
    body: JSON.stringify({ state: "closed" })
  })
  assert.strictEqual(response.status, 200, `closing #${number}: ${await response.text()}`)
}

const HOSTS = 3
const SLOTS = 2

describe.skipIf(!pg.run)(pg.title("placement of runs on a cluster"), () => {
  it("new runs go to the runners with free slots: every host runs two turns at once and no turn waits", async () => {
    assert.isTrue(existsSync(BIN), `build the CLI first: cd apps/cli && npx tsup (looked for ${BIN})`)
    let cluster: Cluster | undefined
    try {
      cluster = await startCluster({
        hosts: HOSTS,
        maxConcurrent: HOSTS * SLOTS,
        cluster: [`max_concurrent_per_host = ${SLOTS}`]
      })
      const c = cluster
      const more = (e: Error) => {
        throw new Error(`${e.message}\n${JSON.stringify(c.log())}\n${c.outputs()}`)
      }
      // Issues whose first runs (`GH-<n>-r1`) fall on shards one runner holds; the others are added closed.
      let held = new Map<string, ReadonlySet<string>>()
      await until("every runner to publish its shards, none held twice", async () => {
        held = await c.runnerShards()
        const all = [...held.values()].flatMap((shards) => [...shards])
        return (
          held.size === HOSTS &&
          [...held.values()].every((shards) => shards.size > 0) &&
          new Set(all).size === all.length
        )
      }).catch(more)
      const [crowded, shards] = [...held].sort(([a], [b]) => a.localeCompare(b))[0]!
      const candidates = Array.from({ length: 200 }, (_, i) => i + 1)
      const own = await ownShards(candidates.map((n) => `GH-${n}-r1`))
      const numbers = candidates.filter((_, i) => shards.has(own[i]!)).slice(0, HOSTS * SLOTS)
      assert.lengthOf(numbers, HOSTS * SLOTS, `six of #1-#200 have their own shard on ${crowded}`)
      const ids = c.submitNumbers(numbers)
      await until(
        "every turn to start at once (a host given more runs than slots makes some wait)",
        () => c.log().filter((l) => l.what === "start").length === ids.length,
        90_000
      ).catch(more)
      const starts = c.log().filter((l) => l.what === "start")
      const perHost = new Map<string, number>()
      for (const l of starts) perHost.set(l.host, (perHost.get(l.host) ?? 0) + 1)
      assert.deepStrictEqual(
        [...perHost.values()],
        Array.from({ length: HOSTS }, () => SLOTS),
        `two turns per host: ${JSON.stringify(starts)}`
      )
      // `daemon status` names each run's host, as placed.
      const hosts = c.status(c.daemons[0]!).claims.map((claim) => claim.runner)
      assert.strictEqual(new Set(hosts).size, HOSTS, `claims on every runner: ${JSON.stringify(hosts)}`)

      // Close the issues of three runs a salt placed: the daemon must find their executions.
      const runs = JSON.parse(await cliJson(c, ["status", "--json"])) as Array<{
        issueId: string
        placement: string | null
      }>
      const salted = runs.filter((r) => r.placement !== null).map((r) => r.issueId)
      assert.isAtLeast(
        salted.length,
        HOSTS * SLOTS - SLOTS,
        `runs placed away from ${crowded}: ${JSON.stringify(runs)}`
      )
      const closed = salted.slice(0, 3)
      for (const id of closed) await closeIssue(c, Number(id.replace("GH-", "")))
      await until("the closed issues' runs to be cancelled", () =>
        closed.every((id) => c.status(c.daemons[0]!).issues.some((i) => i.issueId === id && i.status === "cancelled"))
      ).catch(more)
      const open = ids.filter((id) => !closed.includes(id))

      c.release()
      await awaitDone(c, open, c.daemons[0]!)
      for (const id of closed) {
        assert.isFalse(
          c.log().some((l) => l.issue === id && l.what === "end"),
          `${id}'s agent was stopped, not released: ${JSON.stringify(c.log())}`
        )
        assert.strictEqual(published(c, id).pulls.length, 0, `${id} published nothing\n${c.outputs()}`)
      }
      for (const id of open) {
        assert.strictEqual(published(c, id).pulls.length, 1, `${id} has one pull request\n${c.outputs()}`)
        // Its evidence is in the shared state database: the first host explains runs that other hosts ran.
        const report = JSON.parse(await cliJson(c, ["explain", id, "--json"])) as { verdict?: { mergeable?: boolean } }
        assert.isTrue(report.verdict?.mergeable, `${id} explained from the first host: ${JSON.stringify(report)}`)
        assert.notInclude(
          await cliJson(c, ["logs", id, "--json"]),
          "waiting for an agent slot",
          `${id} never waited for a slot`
        )
      }
    } finally {
      await cluster?.stop()
    }
  }, 300_000)
})
