/**
 * Webhooks on a cluster (docs/cluster.md): a signed delivery accepted by a runner that does not run the
 * daemon singleton still makes the daemon poll now. Two real daemons on one Postgres, each listening for
 * webhooks, polling only once an hour; after the singleton's first poll an issue arrives and its
 * delivery goes to the other runner: the issue is picked up and built (a pull request), which without the
 * delivery would wait an hour. `daemon health` on that other runner reads the singleton's heartbeat from
 * the daemon store. Fails when SPEC_ORCH_PG_URL is not set, unless SPEC_ORCH_SKIP_POSTGRES=1.
 */
import { assert, describe, it } from "@effect/vitest"
import { spawnSync } from "node:child_process"
import { createHmac } from "node:crypto"
import { existsSync } from "node:fs"
import { BIN, type Cluster, type Daemon, pg, REPO, startCluster, until } from "./utils/cluster.js"

const SECRET = "cluster-s3cret"

describe.skipIf(!pg.run)(pg.title("webhooks on a cluster"), () => {
  it("a delivery to a runner without the daemon singleton makes the daemon poll now", async () => {
    assert.isTrue(existsSync(BIN), `build the CLI first: cd apps/cli && npx tsup (looked for ${BIN})`)
    const hookPorts: Array<number> = []
    let cluster: Cluster | undefined
    try {
      cluster = await startCluster({
        hosts: 2,
        maxConcurrent: 1,
        agentWaits: false,
        daemon: (i, port) => {
          hookPorts[i] = port
          return ["poll_interval_seconds = 3600", `webhook_port = ${port}`]
        },
        env: { SPEC_ORCH_WEBHOOK_SECRET: SECRET }
      })
      const c = cluster
      const more = (e: Error) => {
        throw new Error(`${e.message}\n${c.outputs()}`)
      }
      // The singleton runs on one runner and polled once at its start (and then only every hour).
      const singleton = (d: Daemon) =>
        d.output().lastIndexOf("daemon started") > d.output().lastIndexOf("daemon stopped")
      await until("the daemon singleton to start", () => c.daemons.some(singleton), 60_000).catch(more)
      const listed = () => c.github.requests.filter((r) => r.method === "GET" && r.route.includes("/issues")).length
      await until("the daemon's first poll", () => listed() > 0, 30_000).catch(more)
      const other = c.daemons.findIndex((d) => !singleton(d))
      const [id] = c.submit(1)

      const body = JSON.stringify({ action: "opened", issue: { number: Number(id!.slice("GH-".length)) } })
      const answer = await fetch(`http://127.0.0.1:${hookPorts[other]}/`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-github-event": "issues",
          "x-hub-signature-256": `sha256=${createHmac("sha256", SECRET).update(body).digest("hex")}`
        },
        body
      })
      assert.strictEqual(answer.status, 202, await answer.text())
      await until(
        `${id}'s pull request`,
        () => c.github.pulls(REPO).some((p) => p.head === `spec-orch/${id}`),
        120_000
      ).catch(more)

      // `daemon health` on the runner without the singleton reads the singleton's heartbeat (the daemon
      // store), not this host's missing file.
      const health = spawnSync(process.execPath, [BIN, "daemon", "health", "--json"], {
        cwd: c.daemons[other]!.root,
        encoding: "utf8",
        env: { ...process.env, CLUSTER_PG: c.url, GITHUB_TOKEN: c.github.token }
      })
      const verdict = JSON.parse(health.stdout) as {
        healthy: boolean
        state: string
        heartbeat: { host: string } | null
      }
      assert.strictEqual(health.status, 0, `${health.stdout}${health.stderr}`)
      assert.isTrue(verdict.healthy, health.stdout)
      assert.isNotNull(verdict.heartbeat)
    } finally {
      await cluster?.stop()
    }
  }, 240_000)
})
