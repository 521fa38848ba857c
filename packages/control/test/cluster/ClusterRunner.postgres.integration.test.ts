/**
 * Three real cluster runner processes on loopback over one Postgres database (effect/cluster sharding
 * with SQL message and runner storage, TCP between runners, the workflow engine on top): runs spread
 * over the runners; `kill -9` of a runner in the middle of its runs' turns; every run still publishes
 * exactly once, the dead runner's runs resume on a live runner (their interrupted turn starts again, as
 * a new attempt), and no turn finishes twice. A runner paused past its lock expiry (a stalled lock
 * refresh) loses its runs to the others, yet finishes the turns it had in flight: pinned below.
 * Fails when SPEC_ORCH_PG_URL is not set, unless SPEC_ORCH_SKIP_POSTGRES=1.
 */
import { assert, describe, it } from "@effect/vitest"
import { freePorts, requirePostgres } from "@spec-orch/test-kit"
import { type ChildProcess, spawn } from "node:child_process"
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect } from "effect"
import { freshDatabase } from "../utils/postgres.js"

const pg = requirePostgres()
const TSX = join(import.meta.dirname, "../../../../node_modules/.bin/tsx")
const RUNNER = join(import.meta.dirname, "fixtures/runner.ts")

interface Line {
  readonly what: string
  readonly issue: string
  readonly port: number
  readonly pid: number
}

const readLog = (dir: string): Array<Line> =>
  existsSync(join(dir, "log"))
    ? readFileSync(join(dir, "log"), "utf8")
        .trim()
        .split("\n")
        .filter((l) => l.split(" ").length === 4)
        .map((l) => {
          const [what, issue, port, pid] = l.split(" ")
          return { what: what!, issue: issue!, port: Number(port), pid: Number(pid) }
        })
    : []

const until = async (what: string, predicate: () => boolean, ms: number) => {
  const end = Date.now() + ms
  while (!predicate()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

/** Three runner processes on one fresh database, the shards spread over them, `issues` submitted and every turn started. */
const startCluster = async (issues: ReadonlyArray<string>) => {
  const url = await Effect.runPromise(freshDatabase("cluster"))
  const dir = mkdtempSync(join(tmpdir(), "cluster-runners-"))
  const ports = await freePorts(3)
  const children: Array<ChildProcess> = []
  /** What each runner wrote on stderr, shown when the cluster does not come up. */
  const errs: Array<string> = []
  const start = (i: number, submit: boolean) => {
    const child = spawn(TSX, [RUNNER, String(ports[i])], {
      env: { ...process.env, PG_URL: url, LOG_DIR: dir, ...(submit ? { SUBMIT: issues.join(",") } : {}) },
      stdio: ["ignore", "ignore", "pipe"]
    })
    errs[i] = ""
    child.stderr!.on("data", (d) => (errs[i] += d))
    child.on("exit", () => writeFileSync(join(dir, `runner-${i}.stderr`), errs[i]!))
    children.push(child)
  }
  const stop = () => {
    for (const pid of new Set(readLog(dir).map((l) => l.pid))) {
      try {
        process.kill(pid, "SIGKILL")
      } catch {
        // already gone
      }
    }
    for (const c of children) c.kill("SIGKILL")
  }
  try {
    start(0, false)
    start(1, false)
    start(2, true)
    // every runner holds shards, and together all of them (the latest count each runner logged)
    await until(
      "the shards to spread over the three runners",
      () => {
        const latest = new Map<number, number>()
        for (const l of readLog(dir)) if (l.what === "shards") latest.set(l.pid, Number(l.issue))
        return (
          latest.size === 3 &&
          [...latest.values()].every((n) => n > 0) &&
          [...latest.values()].reduce((a, b) => a + b, 0) === 300
        )
      },
      60_000
    )
    writeFileSync(join(dir, "go"), "")
    await until(
      "every run's turn to start",
      () =>
        new Set(
          readLog(dir)
            .filter((l) => l.what === "start")
            .map((l) => l.issue)
        ).size === issues.length,
      60_000
    )
  } catch (e) {
    stop()
    const runners = errs.map((text, i) => `--- runner ${i} (port ${ports[i]}) stderr\n${text}`).join("\n")
    throw new Error(`${(e as Error).message}\n${runners}`)
  }
  const started = readLog(dir).filter((l) => l.what === "start")
  const hosts = new Set(started.map((l) => l.pid))
  assert.isAtLeast(hosts.size, 2, `runs spread over the runners: ${JSON.stringify(started)}`)
  // the runner with the most runs in flight
  const busiest = [...hosts]
    .map((pid) => [pid, started.filter((l) => l.pid === pid).length] as const)
    .sort((a, b) => b[1] - a[1])[0]![0]
  return {
    dir,
    busiest,
    busiestRuns: started.filter((l) => l.pid === busiest).map((l) => l.issue),
    release: () => writeFileSync(join(dir, "release"), ""),
    stop
  }
}

/** Every run published once and its turn finished once, none of it on `victim`; its runs started again once elsewhere. */
const assertExactlyOnce = (
  dir: string,
  issues: ReadonlyArray<string>,
  victim: number,
  victimRuns: ReadonlyArray<string>
) => {
  const log = readLog(dir)
  for (const issue of issues) {
    const mine = log.filter((l) => l.issue === issue)
    assert.strictEqual(
      mine.filter((l) => l.what === "publish").length,
      1,
      `${issue} publishes once: ${JSON.stringify(mine)}`
    )
    assert.strictEqual(
      mine.filter((l) => l.what === "end").length,
      1,
      `${issue}'s turn finishes once: ${JSON.stringify(mine)}`
    )
    assert.isTrue(
      mine.every((l) => l.what === "start" || l.pid !== victim),
      `nothing of ${issue} finished on the runner that lost its shards: ${JSON.stringify(mine)}`
    )
  }
  for (const issue of victimRuns) {
    const restarts = log.filter((l) => l.issue === issue && l.what === "start" && l.pid !== victim)
    assert.strictEqual(restarts.length, 1, `${issue} of the lost runner started again once, on a live runner`)
  }
  for (const issue of issues.filter((i) => !victimRuns.includes(i))) {
    assert.strictEqual(
      log.filter((l) => l.issue === issue && l.what === "start").length,
      1,
      `${issue} of a live runner ran its turn once`
    )
  }
}

const allPublished = (dir: string, issues: ReadonlyArray<string>) => () =>
  new Set(
    readLog(dir)
      .filter((l) => l.what === "publish")
      .map((l) => l.issue)
  ).size === issues.length

describe.skipIf(!pg.run)(pg.title("cluster runners on Postgres"), () => {
  it("a runner killed with SIGKILL mid-turn: its runs resume on the others, every run publishes once, no turn finishes twice", async () => {
    const issues = Array.from({ length: 30 }, (_, i) => `ISS-${i + 1}`)
    const c = await startCluster(issues)
    try {
      process.kill(c.busiest, "SIGKILL")
      const killedAt = Date.now()
      // its runs start again on live runners once its shard locks (4 s) expire: within 3 × that here (the issue's target is 2 ×)
      await until(
        "the killed runner's runs to resume elsewhere",
        () => {
          const log = readLog(c.dir)
          return c.busiestRuns.every((issue) =>
            log.some((l) => l.what === "start" && l.issue === issue && l.pid !== c.busiest)
          )
        },
        12_000
      )
      const resumedMs = Date.now() - killedAt
      c.release()
      await until("every run to publish", allPublished(c.dir, issues), 90_000)
      console.log(
        `cluster failover: ${c.busiestRuns.length} run(s) of the killed runner resumed ${resumedMs} ms after the kill; all ${issues.length} published ${Date.now() - killedAt} ms after it`
      )
      assertExactlyOnce(c.dir, issues, c.busiest, c.busiestRuns)
    } finally {
      c.stop()
    }
  }, 180_000)

  // effect 4.1.0: a runner that lost its shards while paused does not interrupt the entity work it had
  // in flight; its turns run to their end beside the new owner's. The journal keeps the publish single,
  // but the turn ran on two hosts at once. This test pins that down (it fails once effect/cluster
  // interrupts such work, and should then assert exactly-once turns like the SIGKILL test): until
  // then the daemon must fence each agent turn itself before it joins a cluster.
  it("a runner paused (SIGSTOP) past its shard locks' expiry: its runs move and publish once, but its in-flight turns still finish after it resumes (effect/cluster 4.1.0)", async () => {
    const issues = Array.from({ length: 9 }, (_, i) => `ISS-${i + 1}`)
    const c = await startCluster(issues)
    try {
      process.kill(c.busiest, "SIGSTOP")
      // its locks expire and the others start its runs again
      await until(
        "the paused runner's runs to start elsewhere",
        () => {
          const log = readLog(c.dir)
          return c.busiestRuns.every((issue) =>
            log.some((l) => l.what === "start" && l.issue === issue && l.pid !== c.busiest)
          )
        },
        60_000
      )
      process.kill(c.busiest, "SIGCONT")
      // the resumed runner finds it holds no shards
      const before = readLog(c.dir).length
      await until(
        "the resumed runner to notice it holds no shards",
        () =>
          readLog(c.dir)
            .slice(before)
            .some((l) => l.what === "shards" && l.issue === "0" && l.pid === c.busiest),
        30_000
      )
      const noticed = readLog(c.dir).length
      c.release()
      await until("every run to publish", allPublished(c.dir, issues), 90_000)
      await until(
        "the paused runner's turns to end",
        () =>
          c.busiestRuns.every((issue) =>
            readLog(c.dir).some((l) => l.what === "end" && l.issue === issue && l.pid === c.busiest)
          ),
        30_000
      )
      const log = readLog(c.dir)
      for (const issue of issues) {
        const mine = log.filter((l) => l.issue === issue)
        assert.strictEqual(
          mine.filter((l) => l.what === "publish").length,
          1,
          `${issue} publishes once: ${JSON.stringify(mine)}`
        )
        assert.isTrue(
          mine.every((l) => l.what !== "publish" || l.pid !== c.busiest),
          `${issue} is not published by the runner that lost its shards`
        )
      }
      const lateTurns = log
        .slice(noticed)
        .filter((l) => l.what === "end" && l.pid === c.busiest)
        .map((l) => l.issue)
        .sort()
      assert.deepStrictEqual(
        lateTurns,
        [...c.busiestRuns].sort(),
        "every turn in flight on the paused runner ran to its end after it knew it held no shard"
      )
    } finally {
      c.stop()
    }
  }, 180_000)
})
