/**
 * A worktree ready to verify: `Workspaces.prepare` with dependency provisioning next to a bare
 * `git worktree add` in the same run, interleaved, median of 7 after one warm-up each, and the disk an
 * extra worktree takes beyond the checkout (`du` over the main checkout and the worktree together, so
 * hard-linked files count once). On `bench/fixtures/js-app` (jest and eslint: 336 packages from the
 * npm registry, installed by `npm ci` once per machine and cached by the lockfile's hash; node_modules
 * linked), next to what the workaround costs (`npm ci` from the local cache in a bare worktree); on
 * the test kit's js-lib fixture (mocha); and on a generated workspace monorepo with 300 installed
 * packages (node_modules copied as hard links).
 */
import { NodeServices } from "@effect/platform-node"
import { ConfigFile, makeRunKey, Project } from "@spec-orch/contract"
import {
  copyFixture,
  createRepo,
  git,
  installNodeModules,
  makeTempDir,
  removeDir,
  writeFiles
} from "@spec-orch/test-kit"
import { Effect, Layer } from "effect"
import { execFileSync } from "node:child_process"
import { cpSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { Workspaces } from "../src/index.js"

const RUNS = Number(process.env.BENCH_RUNS ?? 7)

const median = (xs: Array<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const round = (n: number) => Math.round(n * 10) / 10
const report = (metric: string, value: number, unit: string, extra: { target?: string; note?: string } = {}) =>
  console.log(JSON.stringify({ bench: "worktree-provision", metric, value: round(value), unit, ...extra }))
const ms = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e6

/** KiB `du` charges to `dir` after `main` (hard links to files already counted in `main` are free). */
const extraKiB = (main: string, dir: string) => {
  const lines = execFileSync("du", ["-sk", main, dir], { encoding: "utf8" }).trim().split("\n")
  return Number(lines[1]!.split("\t")[0])
}

const measure = async (
  name: string,
  repoPath: string,
  check: (worktree: string) => void,
  workaround?: ReadonlyArray<string>
) => {
  const rootDir = makeTempDir("spec-orch-bench-prov-wt-")
  const bareDir = makeTempDir("spec-orch-bench-prov-bare-")
  try {
    const layer = Workspaces.layer.pipe(
      Layer.provide(Project.layerFrom(repoPath, ConfigFile.parse({ workspace: { root: rootDir } }))),
      Layer.provide(NodeServices.layer)
    )
    const workspaces = await Effect.runPromise(Effect.service(Workspaces).pipe(Effect.provide(layer)))
    const bare: Array<number> = []
    const ours: Array<number> = []
    let last = { bare: "", ours: "", kind: "" }
    for (let i = 0; i <= RUNS; i++) {
      let t = process.hrtime.bigint()
      const barePath = join(bareDir, `wt-${i}`)
      git(repoPath, ["worktree", "add", "-q", "--no-track", "-b", `bare-${name}-${i}`, barePath, "HEAD"])
      const b = ms(t)
      t = process.hrtime.bigint()
      const binding = await Effect.runPromise(workspaces.prepare({ runKey: makeRunKey(`PROV-${name}-${i}`) }))
      const o = ms(t)
      if (i > 0) {
        bare.push(b)
        ours.push(o)
      }
      last = {
        bare: barePath,
        ours: binding.path,
        kind: (binding.provisioned ?? []).map((p) => `${p.path} (${p.kind})`).join(", ")
      }
    }
    check(last.ours)
    report(`${name}: git worktree add, median of ${RUNS}`, median(bare), "ms")
    report(
      `${name}: worktree ready to verify (Workspaces.prepare with provisioning), median of ${RUNS}`,
      median(ours),
      "ms",
      { target: "≤ 2000 ms", note: `provisioned ${last.kind}` }
    )
    const bareKiB = extraKiB(repoPath, last.bare)
    const oursKiB = extraKiB(repoPath, last.ours)
    report(`${name}: disk of a bare worktree beyond the checkout`, bareKiB / 1024, "MB")
    report(`${name}: disk of a provisioned worktree beyond the checkout`, oursKiB / 1024, "MB", {
      target: "≤ 10 MB",
      note: `${round((oursKiB - bareKiB) / 1024)} MB more than the bare worktree`
    })
    if (workaround !== undefined) {
      // The workaround provisioning replaces: install into a bare worktree (from npm's local cache, which the fixture's install filled).
      const t = process.hrtime.bigint()
      execFileSync(workaround[0]!, workaround.slice(1), {
        cwd: last.bare,
        stdio: "ignore",
        env: { ...process.env, npm_config_update_notifier: "false" }
      })
      const installMs = ms(t)
      check(last.bare)
      report(
        `${name}: bare worktree + \`${workaround.join(" ")}\` (the workaround), once`,
        installMs + median(bare),
        "ms"
      )
      report(`${name}: disk of that installed worktree beyond the checkout`, extraKiB(repoPath, last.bare) / 1024, "MB")
    }
  } finally {
    removeDir(rootDir)
    removeDir(bareDir)
  }
}

const appDir = makeTempDir("spec-orch-bench-js-app-")
const jsDir = makeTempDir("spec-orch-bench-js-lib-")
const monoDir = makeTempDir("spec-orch-bench-mono-")
try {
  cpSync(join(import.meta.dirname, "fixtures", "js-app"), appDir, { recursive: true })
  const app = createRepo(appDir, { files: {} })
  const t0 = process.hrtime.bigint()
  const installedApp = installNodeModules(app.path)
  const appPackages = Object.keys(
    (JSON.parse(readFileSync(join(app.path, "node_modules", ".package-lock.json"), "utf8")) as { packages: object })
      .packages
  ).length
  const appMB =
    Number(execFileSync("du", ["-sk", "node_modules"], { cwd: app.path, encoding: "utf8" }).split("\t")[0]) / 1024
  console.log(
    `# js-app: node_modules (${appPackages} packages, ${round(appMB)} MB) ${installedApp.fromRegistry ? "installed from the registry" : "copied from the test kit's cache"} in ${round(ms(t0))} ms`
  )
  await measure(
    "js-app",
    app.path,
    (worktree) => {
      execFileSync("npm", ["test", "--silent"], { cwd: worktree, stdio: "ignore" })
      execFileSync("npm", ["run", "lint", "--silent"], { cwd: worktree, stdio: "ignore" })
    },
    ["npm", "ci", "--prefer-offline", "--ignore-scripts", "--no-audit", "--no-fund"]
  )

  copyFixture("js-lib", jsDir)
  const js = createRepo(jsDir, { files: {} })
  const t = process.hrtime.bigint()
  const { fromRegistry } = installNodeModules(js.path)
  const packages = execFileSync("sh", ["-c", "ls node_modules | wc -l"], { cwd: js.path, encoding: "utf8" }).trim()
  console.log(
    `# js-lib: node_modules (${packages} packages) ${fromRegistry ? "installed from the registry" : "copied from the test kit's cache"} in ${round(ms(t))} ms`
  )
  await measure("js-lib", js.path, (worktree) => {
    execFileSync("npm", ["test", "--silent"], { cwd: worktree, stdio: "ignore" })
  })

  // A workspace monorepo: 300 installed packages of 20 files each at the root, two workspace packages.
  const files: Record<string, string> = {
    "package.json": JSON.stringify({ name: "mono", private: true, workspaces: ["packages/*"] }),
    "package-lock.json": '{"lockfileVersion": 3}\n',
    ".gitignore": "node_modules/\n",
    "packages/a/package.json": JSON.stringify({ name: "@mono/a", version: "1.0.0" }),
    "packages/a/index.js": "module.exports = require('dep-0')\n",
    "packages/b/package.json": JSON.stringify({ name: "@mono/b", version: "1.0.0" }),
    "packages/b/index.js": "module.exports = require('@mono/a')\n"
  }
  const mono = createRepo(monoDir, { files })
  const installed: Record<string, string> = {}
  for (let p = 0; p < 300; p++) {
    installed[`node_modules/dep-${p}/package.json`] = JSON.stringify({
      name: `dep-${p}`,
      version: "1.0.0",
      main: "lib/f0.js"
    })
    for (let f = 0; f < 19; f++)
      installed[`node_modules/dep-${p}/lib/f${f}.js`] = `module.exports = ${p * 100 + f}\n`.repeat(20)
  }
  writeFiles(mono.path, installed)
  execFileSync(
    "sh",
    [
      "-c",
      "mkdir -p node_modules/@mono && ln -s ../../packages/a node_modules/@mono/a && ln -s ../../packages/b node_modules/@mono/b"
    ],
    { cwd: mono.path }
  )
  console.log(`# monorepo: 300 packages, 6000 files installed in node_modules`)
  await measure("monorepo-300", mono.path, (worktree) => {
    const resolved = execFileSync(process.execPath, ["-e", "console.log(require.resolve('@mono/a'))"], {
      cwd: join(worktree, "packages/b"),
      encoding: "utf8"
    }).trim()
    if (resolved !== join(worktree, "packages/a/index.js")) throw new Error(`workspace link resolved to ${resolved}`)
  })
} finally {
  removeDir(appDir)
  removeDir(jsDir)
  removeDir(monoDir)
}
