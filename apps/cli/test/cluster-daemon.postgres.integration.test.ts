/**
 * `spec-orch daemon start` on many hosts (`[cluster] storage = "postgres"`, docs/cluster.md): three real
 * daemons (the built binary) on loopback, each with its own clone and worktree root of one bare
 * repository (the shared remote), one Postgres database, the fake GitHub as tracker and an instant
 * `command` agent that waits for the test's word. Ten issues spread over the runners; `daemon status
 * --json` names each run's runner; one daemon is killed with SIGKILL (and its agents with it, as when a
 * host dies) while its runs are in their agent turn: they start again on a live runner, and every issue
 * ends exactly once, with one pull request and one summary comment.
 * Fails when SPEC_ORCH_PG_URL is not set, unless SPEC_ORCH_SKIP_POSTGRES=1.
 */
import { assert, describe, it } from "@effect/vitest"
import { processesUnder } from "@spec-orch/test-kit"
import { spawn } from "node:child_process"
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
  signal,
  startCluster,
  until
} from "./utils/cluster.js"

const HOSTS = 3
const ISSUES = 10

describe.skipIf(!pg.run)(pg.title("spec-orch daemon on a cluster"), () => {
  it("three daemons on one Postgres: runs spread over them, a SIGKILLed host's runs finish on another, every issue ends once with one PR and one comment", async () => {
    assert.isTrue(existsSync(BIN), `build the CLI first: cd apps/cli && npx tsup (looked for ${BIN})`)
    let cluster: Cluster | undefined
    try {
      cluster = await startCluster({ hosts: HOSTS, maxConcurrent: ISSUES })
      const c = cluster
      const { daemons, outputs, log, github } = c
      const addresses = daemons.map((d) => d.address)
      const ids = c.submit(ISSUES)
      const started = await awaitTurns(c, ids)
      const hosts = new Set(started.map((l) => l.host))
      assert.isAtLeast(hosts.size, 2, `runs spread over the runners: ${JSON.stringify(started)}`)

      // daemon status (from any host) names the runner of every run in flight.
      const status = c.status(daemons[0]!)
      assert.strictEqual(status.claims.length, ISSUES, JSON.stringify(status.claims))
      for (const claim of status.claims) {
        const host = started.find((l) => l.issue === claim.issueId)!.host
        assert.strictEqual(
          claim.runner,
          addresses[Number(host.slice("host-".length))],
          `${claim.issueId} runs on ${host}`
        )
      }

      // So does the dashboard's daemon API.
      const dashboard = spawn(process.execPath, [BIN, "dashboard", "--json", "--port", "0"], {
        cwd: daemons[1]!.root,
        env: { ...process.env, CLUSTER_PG: c.url, GITHUB_TOKEN: github.token },
        stdio: ["ignore", "pipe", "pipe"]
      })
      try {
        const base = await new Promise<string>((resolve, reject) => {
          let out = ""
          dashboard.stdout!.on("data", (d) => {
            out += d
            const line = out.split("\n").find((l) => l.startsWith("{"))
            if (line !== undefined && out.includes("\n")) resolve((JSON.parse(line) as { base: string }).base)
          })
          dashboard.on("exit", (code) => reject(new Error(`dashboard exited ${code}`)))
        })
        const api = (await (await fetch(`${base}/api/v1/daemon`)).json()) as {
          claims: Array<{ issue_id: string; runner: string | null }>
        }
        assert.strictEqual(api.claims.length, ISSUES)
        for (const claim of api.claims)
          assert.strictEqual(
            claim.runner,
            status.claims.find((s) => s.issueId === claim.issue_id)?.runner,
            claim.issue_id
          )
      } finally {
        dashboard.kill("SIGTERM")
        await exited(dashboard)
      }

      // The busiest host dies: its daemon and its agents.
      const victimHost = busiest(started)
      const victim = daemons.find((d) => d.host === victimHost)!
      const victimRuns = started.filter((l) => l.host === victimHost).map((l) => l.issue)
      victim.child.kill("SIGKILL")
      await exited(victim.child)
      for (const pid of processesUnder(victim.worktrees)) signal(Number(pid), "SIGKILL")
      await until(
        "the dead host's runs to start again on a live runner",
        () =>
          victimRuns.every((issue) =>
            log().some((l) => l.what === "start" && l.issue === issue && l.host !== victimHost)
          ),
        60_000
      ).catch((e) => {
        throw new Error(`${e.message}\n${outputs()}`)
      })
      c.release()
      await awaitDone(c, ids, daemons.find((d) => d !== victim)!)

      const said = (what: string) => `${what}\n${outputs()}`
      for (const id of ids) {
        const { pulls, comments } = published(c, id)
        assert.strictEqual(
          pulls.length,
          1,
          said(`${id} has one pull request: ${JSON.stringify(pulls.map((p) => p.head))}`)
        )
        assert.strictEqual(comments.length, 1, said(`${id} has one comment: ${JSON.stringify(comments)}`))
        assert.isFalse(
          log().some((l) => l.what === "end" && l.issue === id && l.host === victimHost),
          `no turn of ${id} ended on the dead host`
        )
      }
      assert.strictEqual(github.pulls("acme/widgets").length, ISSUES)
    } finally {
      await cluster?.stop()
    }
  }, 400_000)
})
