/**
 * A stalled runner on a cluster (docs/cluster.md, "Fencing"): three real daemons on one Postgres with a
 * 4 s shard lock expiry; agents that log a tick every 50 ms while they wait for the test's word. One host
 * is paused with SIGSTOP (the daemon and its agent's processes, as a VM pause or a stalled lock refresh
 * would) while its agent turn runs; once another host has started that run's turn again, the paused host
 * is resumed with SIGCONT. Its stale turn stops within a short bound of the resume (the in-stage fence
 * kills it before it does anything else), the stale turn never finishes, and every issue still ends once:
 * one push of its branch, one pull request, one comment. (When the resumed host rejoins, shards move back
 * to it: a run may then start a new attempt, one turn after the other, never two at once.) The host
 * paused is the one that runs the daemon singleton, so the daemon moves too: the new one takes over the
 * claims at once, the paused one wakes unable to claim or record anything, and when the singleton comes
 * back to the paused host, that daemon dispatches again (the retries of the runs that moved).
 * Fails when SPEC_ORCH_PG_URL is not set, unless SPEC_ORCH_SKIP_POSTGRES=1.
 */
import { assert, describe, it } from "@effect/vitest"
import { processesUnder } from "@spec-orch/test-kit"
import { execFileSync } from "node:child_process"
import { existsSync, readFileSync } from "node:fs"
import { join } from "node:path"
import {
  awaitDone,
  awaitTurns,
  BIN,
  type Cluster,
  pg,
  published,
  signal,
  startCluster,
  until
} from "./utils/cluster.js"

const HOSTS = 3
const ISSUES = 4
/**
 * How long after SIGCONT the stale turn may still tick: the resumed runner's first beat notices the stall
 * and interrupts the stage at once (SIGTERM to the agent's process group; SIGKILL 2 s later if it lingers).
 * Under load the runner's event loop may take a while to be scheduled again: the bound is generous on
 * purpose; what it is in a run is printed.
 */
const SLACK_MS = 3000

interface Tick {
  readonly host: string
  readonly issue: string
  readonly turn: string
  readonly at: number
}

const ticks = (signals: string): Array<Tick> =>
  existsSync(join(signals, "ticks.log"))
    ? readFileSync(join(signals, "ticks.log"), "utf8")
        .trim()
        .split("\n")
        .map((l) => l.split(" "))
        .filter((p) => p.length === 5 && p[3] === "tick")
        .map(([host, issue, turn, , at]) => ({ host: host!, issue: issue!, turn: turn!, at: Number(at) }))
    : []

const git = (cwd: string, ...args: Array<string>) => execFileSync("git", args, { cwd, encoding: "utf8" }).trim()

describe.skipIf(!pg.run)(pg.title("a stalled runner on a cluster"), () => {
  it("a runner paused past its lock expiry mid-turn: its turn stops right after it resumes, the new owner's carries the run, every issue ends once", async () => {
    assert.isTrue(existsSync(BIN), `build the CLI first: cd apps/cli && npx tsup (looked for ${BIN})`)
    let cluster: Cluster | undefined
    try {
      cluster = await startCluster({ hosts: HOSTS, maxConcurrent: ISSUES, ticks: true })
      const c = cluster
      const more = (e: Error) => {
        throw new Error(`${e.message}\n${c.outputs()}`)
      }
      // Every push to the shared remote is kept in its reflog: a second push of a run's branch would show.
      git(c.bare, "config", "core.logAllRefUpdates", "always")
      const ids = c.submit(ISSUES)
      const started = await awaitTurns(c, ids)

      // The host of a turn, once that turn ticks: the one that runs the daemon singleton, so the daemon moves
      // too (when no turn runs there, another host of a turn).
      const singleton = (output: string) => output.lastIndexOf("daemon started") > output.lastIndexOf("daemon stopped")
      const stale = started.find((l) => singleton(c.daemons.find((d) => d.host === l.host)!.output())) ?? started[0]!
      await until("the turn to tick", () => ticks(c.signals).some((t) => t.turn === stale.turn), 30_000).catch(more)
      const victim = c.daemons.find((d) => d.host === stale.host)!
      const staleTurns = started.filter((l) => l.host === victim.host)
      const moved = staleTurns.map((l) => l.issue)

      // Pause the host: its agents' processes, then the daemon.
      const paused = [...processesUnder(victim.worktrees).map(Number), victim.child.pid!]
      for (const pid of paused) signal(pid, "SIGSTOP")
      await until(
        "another host to start the paused host's runs again",
        () => moved.every((id) => c.log().some((l) => l.what === "start" && l.issue === id && l.host !== victim.host)),
        90_000
      ).catch(more)
      // and its turns to tick there
      await until(
        "the new owners' turns to tick",
        () => moved.every((id) => ticks(c.signals).some((t) => t.issue === id && t.host !== victim.host)),
        30_000
      ).catch(more)

      for (const pid of [...paused].reverse()) signal(pid, "SIGCONT")
      const resumedAt = Date.now()
      // Long enough that a turn left running would keep ticking well past the bound.
      await new Promise((r) => setTimeout(r, SLACK_MS + 4000))

      const log = ticks(c.signals)
      const staleTail = log.filter((t) => staleTurns.some((s) => s.turn === t.turn) && t.at >= resumedAt - 1000)
      const lastStale = Math.max(resumedAt, ...staleTail.map((t) => t.at))
      console.log(
        `cluster stall: ${victim.host} paused ${moved.length} turn(s) of ${moved.join(", ")}; after SIGCONT its stale turn(s) ticked ${staleTail.length} more time(s), the last ${lastStale - resumedAt} ms after the resume`
      )
      // No two turns of one issue ran at once (each ticked within 100 ms of the other: they tick every
      // 50 ms while they run, and not at all while paused), but for the stale turn's tail after the resume.
      const isStale = (turn: string) => staleTurns.some((s) => s.turn === turn)
      const allowed = (a: Tick, b: Tick) =>
        (isStale(a.turn) || isStale(b.turn)) && a.at >= resumedAt - 100 && a.at <= resumedAt + SLACK_MS
      for (const id of ids) {
        const mine = log.filter((t) => t.issue === id)
        const clashes = mine.flatMap((a) =>
          mine
            .filter((b) => b.turn !== a.turn && Math.abs(b.at - a.at) <= 100 && !allowed(a, b))
            .map((b) => `${a.host} at ${a.at - resumedAt} ms, ${b.host} at ${b.at - resumedAt} ms`)
        )
        assert.deepStrictEqual(
          clashes.slice(0, 10),
          [],
          `${id}: two turns ran at once (times from the resume) beyond the stale turn's first ${SLACK_MS} ms after it\n${c.outputs()}`
        )
      }

      c.release()
      await awaitDone(c, ids, c.daemons.find((d) => d !== victim)!)

      const said = (what: string) => `${what}\n${c.outputs()}`
      const ends = c.log().filter((l) => l.what === "end")
      for (const s of staleTurns)
        assert.isFalse(
          ends.some((l) => l.turn === s.turn),
          said(`the stale turn of ${s.issue} on ${victim.host} never finished`)
        )
      for (const id of ids) {
        const { pulls, comments } = published(c, id)
        assert.strictEqual(
          pulls.length,
          1,
          said(`${id} has one pull request: ${JSON.stringify(pulls.map((p) => p.head))}`)
        )
        assert.strictEqual(comments.length, 1, said(`${id} has one comment: ${JSON.stringify(comments)}`))
        const pushes = git(c.bare, "reflog", "show", "--format=%H", `refs/heads/spec-orch/${id}`).split("\n")
        assert.strictEqual(pushes.length, 1, said(`${id}'s branch was pushed once: ${pushes.join(", ")}`))
      }
    } finally {
      await cluster?.stop()
    }
  }, 400_000)
})
