/**
 * A run that moves to another host after its commit continues from that commit (docs/cluster.md): on a
 * cluster the commit is kept on the shared remote under a hidden ref as soon as it is made, and the host
 * that takes the run over fetches it instead of starting a new attempt. Two real daemons on one
 * Postgres; verification waits for the test's word, so every run is past its commit when the host
 * running one of them is killed (SIGKILL, its processes with it): the run verifies again on the other
 * host and publishes the very commit the dead host made, and no agent turn ran twice. Fails when
 * SPEC_ORCH_PG_URL is not set, unless SPEC_ORCH_SKIP_POSTGRES=1.
 */
import { assert, describe, it } from "@effect/vitest"
import { processesUnder } from "@spec-orch/test-kit"
import { execFileSync } from "node:child_process"
import { existsSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { BIN, type Cluster, pg, REPO, signal, startCluster, until } from "./utils/cluster.js"

const ISSUES = 2

// Verification: logs `verify <worktree>` to verify.log, then waits for the test's word.
const VERIFY = `
import { appendFileSync, existsSync } from "node:fs"
import { join } from "node:path"
const dir = process.argv[2]
appendFileSync(join(dir, "verify.log"), process.cwd() + "\\n")
while (!existsSync(join(dir, "release"))) await new Promise((r) => setTimeout(r, 100))
`

const git = (cwd: string, ...args: Array<string>) => execFileSync("git", args, { cwd, encoding: "utf8" }).trim()

describe.skipIf(!pg.run)(pg.title("a run moved after its commit"), () => {
  it("continues on the new host from the commit the dead host made: one agent turn, that commit published", async () => {
    assert.isTrue(existsSync(BIN), `build the CLI first: cd apps/cli && npx tsup (looked for ${BIN})`)
    let cluster: Cluster | undefined
    try {
      cluster = await startCluster({
        hosts: 2,
        maxConcurrent: ISSUES,
        agentWaits: false,
        // Verification sees the worktree and the writable paths only: the script lives in the signals directory.
        files: { "verify.mjs": VERIFY },
        check: (signals) => ["node", join(signals, "verify.mjs"), signals]
      })
      const c = cluster
      const more = (e: Error) => {
        throw new Error(`${e.message}\n${c.outputs()}`)
      }
      const verifying = () =>
        existsSync(join(c.signals, "verify.log"))
          ? readFileSync(join(c.signals, "verify.log"), "utf8").trim().split("\n")
          : []
      const ids = c.submit(ISSUES)
      await until("every run to verify", () => verifying().length === ISSUES, 120_000).catch(more)

      // The host verifying the first run dies, with its processes.
      const worktree = verifying()[0]!
      const victim = c.daemons.find((d) => worktree.startsWith(d.worktrees))!
      const moved = ids.find((id) => worktree.includes(id))
      assert.isDefined(moved, `the worktree ${worktree} names its issue`)
      const made = git(worktree, "rev-parse", "HEAD")
      victim.child.kill("SIGKILL")
      for (const pid of processesUnder(victim.worktrees)) signal(Number(pid), "SIGKILL")
      await until(
        `${moved} to verify again on the other host`,
        () => verifying().some((w) => !w.startsWith(victim.worktrees) && w.includes(moved!)),
        60_000
      ).catch(more)
      c.release()
      await until(
        "every pull request",
        () => ids.every((id) => c.github.pulls(REPO).some((p) => p.head === `spec-orch/${id}`)),
        120_000
      ).catch(more)

      const turns = c.log().filter((l) => l.what === "start")
      for (const id of ids)
        assert.strictEqual(
          turns.filter((l) => l.issue === id).length,
          1,
          `one agent turn for ${id}: ${JSON.stringify(turns)}`
        )
      assert.strictEqual(
        git(c.bare, "rev-parse", `refs/heads/spec-orch/${moved}`),
        made,
        `${moved}'s branch is the commit the dead host made\n${c.outputs()}`
      )
      // Each run removes its kept ref right after it published.
      await until("the kept refs to go", () => git(c.bare, "for-each-ref", "refs/spec-orch/") === "", 30_000).catch(
        more
      )
    } finally {
      await cluster?.stop()
    }
  }, 300_000)
})
