/**
 * Worktree creation on a 10,000-file repository: `Workspaces.prepare` next to a bare
 * `git worktree add` in the same run, interleaved, median of 7 after one warm-up each. Also the
 * per-turn `check` and the `changedFiles` scan on the same repository.
 */
import { NodeServices } from "@effect/platform-node"
import { ConfigFile, makeRunKey, Project } from "@spec-orch/contract"
import { createRepo, git, makeTempDir, manyFiles, removeDir } from "@spec-orch/test-kit"
import { Effect, Layer } from "effect"
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { Workspaces } from "../src/index.js"

const FILES = 10_000
const RUNS = Number(process.env.BENCH_RUNS ?? 7)

const median = (xs: Array<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const round = (n: number) => Math.round(n * 10) / 10
const report = (metric: string, value: number, unit: string, extra: { target?: string; note?: string } = {}) =>
  console.log(JSON.stringify({ bench: "worktree", metric, value: round(value), unit, ...extra }))
const ms = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e6

const repoDir = makeTempDir("spec-orch-bench-repo-")
const rootDir = makeTempDir("spec-orch-bench-wt-")
const bareDir = makeTempDir("spec-orch-bench-bare-")
const smallDir = makeTempDir("spec-orch-bench-small-")
try {
  const t0 = process.hrtime.bigint()
  const repo = createRepo(repoDir, { files: { ...manyFiles(FILES), "README.md": "# bench\n" } })
  const tracked = Number(
    git(repo.path, ["ls-files"])
      .split("\n")
      .filter((l) => l !== "").length
  )
  console.log(`# repository with ${tracked} tracked files created in ${round(ms(t0))} ms`)

  const layer = Workspaces.layer.pipe(
    Layer.provide(Project.layerFrom(repo.path, ConfigFile.parse({ workspace: { root: rootDir } }))),
    Layer.provide(NodeServices.layer)
  )
  const workspaces = await Effect.runPromise(Effect.service(Workspaces).pipe(Effect.provide(layer)))
  const run = <A, E>(effect: Effect.Effect<A, E>) => Effect.runPromise(effect)

  // Nothing is deleted while measuring: on this machine's ext4 (mounted with `discard`), deleting
  // 10,000 files slows the next checkouts by seconds, which would swamp the comparison.
  const bare: Array<number> = []
  const ours: Array<number> = []
  for (let i = 0; i <= RUNS; i++) {
    let t = process.hrtime.bigint()
    git(repo.path, ["worktree", "add", "-q", "--no-track", "-b", `bare-${i}`, join(bareDir, `wt-${i}`), "HEAD"])
    const bareMs = ms(t)
    t = process.hrtime.bigint()
    await run(workspaces.prepare({ runKey: makeRunKey(`BENCH-${i}`) }))
    const oursMs = ms(t)
    console.log(`# run ${i}: bare ${round(bareMs)} ms, prepare ${round(oursMs)} ms${i === 0 ? " (warm-up)" : ""}`)
    if (i > 0) {
      bare.push(bareMs)
      ours.push(oursMs)
    }
  }
  const bareMedian = median(bare)
  const oursMedian = median(ours)
  report(`git worktree add (${FILES} files), median of ${RUNS}`, bareMedian, "ms")
  report(`Workspaces.prepare (${FILES} files), median of ${RUNS}`, oursMedian, "ms")
  report("prepare overhead over bare git (median difference)", oursMedian - bareMedian, "ms", {
    note: `${round((oursMedian / bareMedian - 1) * 100)}%; checkout I/O dominates and varies by seconds on a loaded machine, see the 1-file figures`
  })

  // The same comparison on a one-file repository isolates spec-orch's fixed cost from checkout I/O,
  // which on a shared machine varies by seconds between runs.
  const small = createRepo(join(smallDir, "repo"))
  const smallWorkspaces = await Effect.runPromise(
    Effect.service(Workspaces).pipe(
      Effect.provide(
        Workspaces.layer.pipe(
          Layer.provide(Project.layerFrom(small.path, ConfigFile.parse({ workspace: { root: join(smallDir, "wt") } }))),
          Layer.provide(NodeServices.layer)
        )
      )
    )
  )
  const smallBare: Array<number> = []
  const smallOurs: Array<number> = []
  for (let i = 0; i <= 15; i++) {
    let t = process.hrtime.bigint()
    git(small.path, ["worktree", "add", "-q", "--no-track", "-b", `bare-${i}`, join(smallDir, `bare-${i}`), "HEAD"])
    const b = ms(t)
    t = process.hrtime.bigint()
    await run(smallWorkspaces.prepare({ runKey: makeRunKey(`SMALL-${i}`) }))
    const o = ms(t)
    if (i > 0) {
      smallBare.push(b)
      smallOurs.push(o)
    }
  }
  report("git worktree add (1-file repository), median of 15", median(smallBare), "ms")
  report("Workspaces.prepare (1-file repository), median of 15", median(smallOurs), "ms")
  report("prepare fixed overhead over bare git (1-file repository)", median(smallOurs) - median(smallBare), "ms", {
    target: "< 100 ms per run"
  })

  const reuse: Array<number> = []
  for (let i = 0; i < 11; i++) {
    const t = process.hrtime.bigint()
    await run(workspaces.prepare({ runKey: makeRunKey("BENCH-1") }))
    reuse.push(ms(t))
  }
  report("Workspaces.prepare reusing an existing binding (re-run), median of 10", median(reuse.slice(1)), "ms")

  const binding = await run(workspaces.prepare({ runKey: makeRunKey("BENCH-CHECK") }))
  const checks: Array<number> = []
  for (let i = 0; i < 21; i++) {
    const t = process.hrtime.bigint()
    await run(workspaces.check(binding))
    checks.push(ms(t))
  }
  report("Workspaces.check (before every agent turn), median of 20", median(checks.slice(1)), "ms")
  // Three changes in the worktree: a deleted file, a modified file, a new file.
  git(binding.path, ["rm", "-q", "src/d0/d0/file-0.ts"])
  writeFileSync(join(binding.path, "src/d0/d0/file-1.ts"), "export const changed = true\n")
  writeFileSync(join(binding.path, "added.ts"), "export {}\n")
  const scans: Array<number> = []
  for (let i = 0; i < 6; i++) {
    const t = process.hrtime.bigint()
    const files = await run(workspaces.changedFiles(binding))
    scans.push(ms(t))
    if (files.length !== 3) throw new Error(`expected 3 changed files, got ${files.length}`)
  }
  report(`Workspaces.changedFiles (${FILES} files, 3 changed), median of 5`, median(scans.slice(1)), "ms")
} finally {
  removeDir(rootDir)
  removeDir(bareDir)
  removeDir(repoDir)
  removeDir(smallDir)
}
