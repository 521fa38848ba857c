import { NodeServices } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { ConfigFile, makeRunKey, Project, VerificationStep } from "@spec-orch/contract"
import { repoAt, tempDir, tempRepo, type TempRepo, writeFiles } from "@spec-orch/test-kit"
import { Effect, Layer } from "effect"
import { execFileSync } from "node:child_process"
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync
} from "node:fs"
import { join } from "node:path"
import { dependencyDirectories, Verifier, type WorkspaceBinding, Workspaces } from "../../src/index.js"
import { Boxed } from "../utils/layers.js"

const LOCK = JSON.stringify(
  { name: "app", lockfileVersion: 3, packages: { "": { name: "app" }, "node_modules/dep": { version: "1.0.0" } } },
  null,
  2
)

/** An installed package in `node_modules` of `root`: its manifest, its code and a bin. */
const installPackage = (root: string, name: string, code: string) => {
  writeFiles(root, {
    [`node_modules/${name}/package.json`]: JSON.stringify({
      name,
      version: "1.0.0",
      main: "index.js",
      bin: { [name.replace(/^@.*\//, "")]: "cli.js" }
    }),
    [`node_modules/${name}/index.js`]: code,
    [`node_modules/${name}/cli.js`]: `#!/usr/bin/env node\nconsole.log(require("./index.js").name)\n`
  })
  execFileSync("chmod", ["+x", join(root, `node_modules/${name}/cli.js`)])
  mkdirSync(join(root, "node_modules/.bin"), { recursive: true })
  symlinkSync(`../${name}/cli.js`, join(root, `node_modules/.bin/${name.replace(/^@.*\//, "")}`))
}

/** A single-package Node project with its dependencies installed in the main checkout (as `npm ci` leaves it). */
const nodeProject = (repo: TempRepo) => {
  installPackage(repo.path, "dep", "exports.name = 'dep from the main checkout'\n")
  writeFileSync(join(repo.path, "node_modules/.package-lock.json"), LOCK)
  mkdirSync(join(repo.path, "node_modules/.cache/tool"), { recursive: true })
}

const setup = (options: {
  files: Record<string, string>
  workspace?: Record<string, unknown>
  before?: (repo: TempRepo) => void
}) =>
  Effect.gen(function* () {
    const repo = yield* tempRepo({ files: options.files })
    options.before?.(repo)
    const root = yield* tempDir("spec-orch-worktrees-")
    const config = ConfigFile.parse({ workspace: { root, ...options.workspace } })
    const layer = Workspaces.layer.pipe(
      Layer.provide(Project.layerFrom(repo.path, config)),
      Layer.provide(NodeServices.layer)
    )
    const ws = yield* Effect.provide(Effect.service(Workspaces), layer)
    return { repo, ws }
  })

const node = (cwd: string, script: string) =>
  execFileSync(process.execPath, ["-e", script], { cwd, encoding: "utf8" }).trim()
const gitStatus = (b: WorkspaceBinding) => repoAt(b.path).git("status", "--porcelain", "--untracked-files=all")

const NODE_FILES = {
  "package.json": JSON.stringify({ name: "app", version: "1.0.0", devDependencies: { dep: "1.0.0" } }),
  "package-lock.json": LOCK,
  "index.js": "module.exports = require('dep')\n",
  ".gitignore": "node_modules/\n"
}

describe("Workspaces.prepare provisions dependencies", () => {
  it.live(
    "gives a single-package project's worktree the main checkout's node_modules as links, zero copy, never committed",
    () =>
      Effect.gen(function* () {
        const { repo, ws } = yield* setup({ files: NODE_FILES, before: nodeProject })
        const b = yield* ws.prepare({ runKey: makeRunKey("NODE-1") })
        assert.deepStrictEqual(
          b.provisioned?.map((p) => ({ ...p })),
          [{ path: "node_modules", kind: "links", source: join(repo.path, "node_modules") }]
        )
        const nm = join(b.path, "node_modules")
        assert.isTrue(lstatSync(nm).isDirectory(), "a real directory, so `node_modules/` in .gitignore ignores it")
        assert.strictEqual(readlinkSync(join(nm, "dep")), join(repo.path, "node_modules/dep"))
        assert.strictEqual(readlinkSync(join(nm, ".bin/dep")), "../dep/cli.js", "bins stay relative")
        assert.isFalse(
          lstatSync(join(nm, ".package-lock.json")).isSymbolicLink(),
          "npm's record is copied, so an install in the worktree does not rewrite the main checkout's"
        )
        assert.isFalse(existsSync(join(nm, ".cache")), "caches stay private to each checkout")
        assert.strictEqual(node(b.path, "console.log(require('./index.js').name)"), "dep from the main checkout")
        assert.strictEqual(
          execFileSync(join(nm, ".bin/dep"), { encoding: "utf8" }).trim(),
          "dep from the main checkout"
        )
        assert.strictEqual(gitStatus(b), "")
        writeFileSync(join(b.path, "feature.js"), "module.exports = 1\n")
        const { changedFiles } = yield* ws.commitAll(b, "agent work")
        assert.deepStrictEqual(changedFiles, ["feature.js"])
        assert.notInclude(repoAt(b.path).git("ls-tree", "-r", "--name-only", "HEAD"), "node_modules")
        yield* ws.remove("NODE-1", { force: true })
        assert.isTrue(
          existsSync(join(repo.path, "node_modules/dep/index.js")),
          "removing the worktree leaves the main checkout's dependencies alone"
        )
      })
  )

  it.live("does not provision node_modules when the worktree's lockfile differs from the main checkout's", () =>
    Effect.gen(function* () {
      const { ws } = yield* setup({
        files: NODE_FILES,
        before: (repo) => {
          nodeProject(repo)
          // The developer upgraded a dependency and has not committed the lockfile yet: node_modules fits it, not the base.
          writeFileSync(join(repo.path, "package-lock.json"), LOCK.replace("1.0.0", "2.0.0"))
        }
      })
      const b = yield* ws.prepare({ runKey: makeRunKey("NODE-2") })
      assert.deepStrictEqual(b.provisioned, [])
      assert.isFalse(existsSync(join(b.path, "node_modules")))
    })
  )

  it.live(
    "makes a hard-link copy in a workspace monorepo, whose workspace links resolve to the worktree's packages",
    () =>
      Effect.gen(function* () {
        const { repo, ws } = yield* setup({
          files: {
            ...NODE_FILES,
            "package.json": JSON.stringify({ name: "mono", private: true, workspaces: ["packages/*"] }),
            "packages/lib/package.json": JSON.stringify({ name: "@mono/lib", version: "1.0.0", main: "index.js" }),
            "packages/lib/index.js": "exports.where = __dirname\n",
            "packages/app/package.json": JSON.stringify({
              name: "@mono/app",
              version: "1.0.0",
              dependencies: { "@mono/lib": "*", dep: "1.0.0" }
            }),
            "packages/app/index.js": "exports.lib = require('@mono/lib').where\n"
          },
          before: (r) => {
            installPackage(r.path, "dep", "exports.name = 'dep'\n")
            mkdirSync(join(r.path, "node_modules/@mono"), { recursive: true })
            symlinkSync("../../packages/lib", join(r.path, "node_modules/@mono/lib"))
            symlinkSync("../../packages/app", join(r.path, "node_modules/@mono/app"))
            installPackage(join(r.path, "packages/app"), "only-app", "exports.name = 'only-app'\n")
          }
        })
        const b = yield* ws.prepare({ runKey: makeRunKey("MONO-1") })
        assert.deepStrictEqual(
          b.provisioned?.map((p) => [p.path, p.kind]),
          [
            ["node_modules", "hardlinks"],
            ["packages/app/node_modules", "hardlinks"]
          ]
        )
        const mainFile = statSync(join(repo.path, "node_modules/dep/index.js"))
        const copyFile = statSync(join(b.path, "node_modules/dep/index.js"))
        assert.strictEqual(copyFile.ino, mainFile.ino, "files are hard links, not copies")
        assert.isFalse(lstatSync(join(b.path, "node_modules/dep")).isSymbolicLink())
        assert.strictEqual(realpathSync(join(b.path, "node_modules/@mono/lib")), join(b.path, "packages/lib"))
        assert.strictEqual(
          node(join(b.path, "packages/app"), "console.log(require('./index.js').lib)"),
          join(b.path, "packages/lib"),
          "the worktree's own package, not the main checkout's"
        )
        assert.strictEqual(node(join(b.path, "packages/app"), "console.log(require('only-app').name)"), "only-app")
        assert.strictEqual(gitStatus(b), "")
      })
  )

  it.live(
    "copies ignored generated files and links extra ignored directories, and leaves what git does not ignore alone",
    () =>
      Effect.gen(function* () {
        const { repo, ws } = yield* setup({
          files: {
            "README.md": "x\n",
            "src/pkg/__init__.py": "from ._version import v\n",
            ".gitignore": "_version.py\n.venv\ndata/\n"
          },
          workspace: { copy: ["src/*/_version.py", "notes.txt", "missing/*.py"], link: [".venv", "data", "elsewhere"] },
          before: (r) => {
            writeFiles(r.path, {
              "src/pkg/_version.py": "v = '1.0'\n",
              "notes.txt": "not ignored\n",
              ".venv/pyvenv.cfg": "home = /usr/bin\n",
              "data/big.bin": "data\n",
              "elsewhere/x": "not ignored\n"
            })
          }
        })
        const b = yield* ws.prepare({ runKey: makeRunKey("COPY-1") })
        assert.deepStrictEqual(
          b.provisioned?.map((p) => [p.path, p.kind]),
          [
            ["src/pkg/_version.py", "copy"],
            [".venv", "symlink"],
            ["data", "links"]
          ]
        )
        assert.strictEqual(readFileSync(join(b.path, "src/pkg/_version.py"), "utf8"), "v = '1.0'\n")
        assert.isFalse(
          existsSync(join(b.path, "notes.txt")),
          "a file git would not ignore is not copied (it would be committed)"
        )
        assert.strictEqual(
          readlinkSync(join(b.path, ".venv")),
          join(repo.path, ".venv"),
          "`.venv` (no slash) ignores a symlink"
        )
        assert.isTrue(
          lstatSync(join(b.path, "data")).isDirectory(),
          "`data/` ignores only a directory, so its entries are linked"
        )
        assert.strictEqual(readFileSync(join(b.path, "data/big.bin"), "utf8"), "data\n")
        assert.isFalse(existsSync(join(b.path, "elsewhere")))
        assert.strictEqual(gitStatus(b), "")
      })
  )

  it.live("never lists or commits provisioned paths, even when the agent stops git ignoring them", () =>
    Effect.gen(function* () {
      const { ws } = yield* setup({ files: NODE_FILES, before: nodeProject })
      const b = yield* ws.prepare({ runKey: makeRunKey("NODE-3") })
      writeFileSync(join(b.path, ".gitignore"), "")
      assert.include(gitStatus(b), "node_modules", "git itself now sees node_modules")
      assert.deepStrictEqual(yield* ws.changedFiles(b), [".gitignore"])
      assert.deepStrictEqual((yield* ws.status("NODE-3")).uncommitted, [".gitignore"])
      assert.notInclude(yield* ws.diff(b), "diff --git a/node_modules")
      const { changedFiles } = yield* ws.commitAll(b, "agent work")
      assert.deepStrictEqual(changedFiles, [".gitignore"])
      assert.notInclude(repoAt(b.path).git("ls-tree", "-r", "--name-only", "HEAD"), "node_modules")
    })
  )

  it.live("provisions nothing with [workspace] provision = false", () =>
    Effect.gen(function* () {
      const { ws } = yield* setup({ files: NODE_FILES, workspace: { provision: false }, before: nodeProject })
      const b = yield* ws.prepare({ runKey: makeRunKey("NODE-4") })
      assert.deepStrictEqual(b.provisioned, [])
      assert.isFalse(existsSync(join(b.path, "node_modules")))
    })
  )

  it.live("names the main checkout's dependency directories a sandbox must expose read-only", () =>
    Effect.gen(function* () {
      const { repo, ws } = yield* setup({
        files: { ...NODE_FILES, ".gitignore": "node_modules/\n.venv\n" },
        before: (r) => {
          nodeProject(r)
          writeFiles(r.path, { ".venv/pyvenv.cfg": "home = /usr/bin\n", ".venv/bin/python": "#!/bin/sh\n" })
          execFileSync("chmod", ["+x", join(r.path, ".venv/bin/python")])
        }
      })
      const b = yield* ws.prepare({ runKey: makeRunKey("NODE-5") })
      const dirs = yield* dependencyDirectories(b).pipe(Effect.provide(NodeServices.layer))
      assert.deepStrictEqual(dirs, [join(repo.path, "node_modules"), join(repo.path, ".venv")])
    })
  )
})

/** `dep` packed at `version` into `<root>/vendor/dep-<version>.tgz` (a local tarball npm installs without network). */
const packDep = (root: string, version: string) => {
  const src = join(root, `.pack-${version}`)
  writeFiles(src, {
    "package.json": JSON.stringify({ name: "dep", version, main: "index.js" }),
    "index.js": `exports.version = "${version}"\n`
  })
  mkdirSync(join(root, "vendor"), { recursive: true })
  execFileSync("npm", ["pack", "-q", "--pack-destination", join(root, "vendor")], { cwd: src, stdio: "ignore" })
  rmSync(src, { recursive: true, force: true })
}
const npm = (cwd: string, ...args: ReadonlyArray<string>) =>
  execFileSync("npm", [...args, "--offline", "--no-audit", "--no-fund"], { cwd, stdio: "ignore" })
const useDep = (cwd: string, version: string) =>
  writeFileSync(
    join(cwd, "package.json"),
    JSON.stringify({ name: "app", version: "1.0.0", devDependencies: { dep: `file:vendor/dep-${version}.tgz` } })
  )

/** A project whose `dep` 1.0.0 (and a packed 2.0.0) is installed by npm in the main checkout; its worktree provisioned with links (unless `provision` is off). */
const npmProjectWith = (provision: boolean) =>
  Effect.gen(function* () {
    const { repo, ws } = yield* setup({
      files: { ".gitignore": "node_modules/\n" },
      workspace: { provision },
      before: (r) => {
        packDep(r.path, "1.0.0")
        packDep(r.path, "2.0.0")
        useDep(r.path, "1.0.0")
        npm(r.path, "install")
        r.commit("app with dep 1.0.0")
      }
    })
    const b = yield* ws.prepare({ runKey: makeRunKey("LOCK-1") })
    assert.deepStrictEqual(
      b.provisioned?.map((p) => p.kind),
      provision ? ["links"] : []
    )
    const verifier = yield* Effect.service(Verifier).pipe(Effect.provide(Verifier.layer.pipe(Layer.provide(Boxed))))
    const verify = (reinstall: boolean, logs: string) =>
      verifier.run({
        cwd: b.path,
        steps: [new VerificationStep({ name: "which-dep", command: ["node", "-p", "require('dep').version"] })],
        logDir: join(repo.path, ".spec-orch", logs),
        reinstall
      })
    return { repo, b, verify }
  })
const npmProject = npmProjectWith(true)

describe("Verifier reinstalls the worktree's dependencies when the agent changed the lockfile", () => {
  it.live(
    "runs the frozen offline install in the box before the steps, and the report says so",
    () =>
      Effect.gen(function* () {
        const { repo, b, verify } = yield* npmProject
        // The agent upgrades dep: package.json and package-lock.json change on the run branch.
        useDep(b.path, "2.0.0")
        npm(b.path, "install", "--package-lock-only")
        repoAt(b.path).commit("agent upgrades dep")
        // Without the reinstall the steps see the main checkout's dep 1.0.0: what the lockfile no longer describes.
        const stale = yield* verify(false, "stale")
        assert.strictEqual(stale.steps[0]!.outputTail, "1.0.0")
        assert.match(stale.notes![0]!, /^package-lock\.json differs .*dependencies were not reinstalled/)
        const report = yield* verify(true, "verify")
        assert.strictEqual(report.steps[0]!.outcome, "passed")
        assert.strictEqual(
          report.steps[0]!.outputTail,
          "2.0.0",
          "the steps ran against the dependencies the agent's lockfile names"
        )
        assert.lengthOf(report.notes!, 1)
        assert.match(
          report.notes![0]!,
          /^package-lock\.json changed on the run branch: the dependencies were reinstalled in the worktree before the steps \(`npm ci --no-audit --no-fund --offline`, [\d.]+ s; log: .*00-reinstall-dependencies\.log\)$/
        )
        assert.isFalse(
          lstatSync(join(b.path, "node_modules/dep")).isSymbolicLink(),
          "the worktree has its own install now"
        )
        assert.strictEqual(
          node(repo.path, "console.log(require('dep').version)"),
          "1.0.0",
          "the main checkout's dependencies are untouched"
        )
        assert.strictEqual(gitStatus(b), "", "the install changed nothing git tracks")
      }),
    120_000
  )

  it.live(
    "when the install cannot be done, says the dependencies may be stale and puts the main checkout's back",
    () =>
      Effect.gen(function* () {
        const { repo, b, verify } = yield* npmProject
        // The agent's lockfile names a tarball that is not there (as a registry package would be, offline).
        useDep(b.path, "2.0.0")
        npm(b.path, "install", "--package-lock-only")
        for (const f of ["package.json", "package-lock.json"])
          writeFileSync(join(b.path, f), readFileSync(join(b.path, f), "utf8").replaceAll("dep-2.0.0", "dep-9.0.0"))
        repoAt(b.path).commit("agent names a missing dep")
        const report = yield* verify(true, "verify")
        assert.match(
          report.notes![0]!,
          /^dependencies may be stale: package-lock\.json changed on the run branch and reinstalling them \(`npm ci --no-audit --no-fund --offline`\) failed \(exit \d+\); the steps ran with the main checkout's installed dependencies/
        )
        assert.lengthOf(report.notes!, 1)
        assert.strictEqual(report.steps[0]!.outputTail, "1.0.0")
        assert.strictEqual(
          readlinkSync(join(b.path, "node_modules/dep")),
          join(repo.path, "node_modules/dep"),
          "the main checkout's dependencies are linked again"
        )
      }),
    120_000
  )

  it.live(
    "with provisioning off, a failed reinstall leaves the worktree without node_modules, and says so",
    () =>
      Effect.gen(function* () {
        const { b, verify } = yield* npmProjectWith(false)
        useDep(b.path, "2.0.0")
        npm(b.path, "install", "--package-lock-only")
        for (const f of ["package.json", "package-lock.json"])
          writeFileSync(join(b.path, f), readFileSync(join(b.path, f), "utf8").replaceAll("dep-2.0.0", "dep-9.0.0"))
        repoAt(b.path).commit("agent names a missing dep")
        const report = yield* verify(true, "verify")
        assert.match(
          report.notes![0]!,
          /^dependencies may be stale: .* failed \(exit \d+\); the worktree has no node_modules\./
        )
        assert.isFalse(
          existsSync(join(b.path, "node_modules")),
          "nothing of the main checkout's is linked in when provisioning is off"
        )
        assert.strictEqual(report.steps[0]!.outcome, "failed")
      }),
    120_000
  )

  it.live(
    "reinstalls a pnpm project from its changed pnpm-lock.yaml with pnpm's frozen offline install",
    () =>
      Effect.gen(function* () {
        const pnpm = (cwd: string, ...args: ReadonlyArray<string>) =>
          execFileSync("pnpm", [...args, "--offline"], {
            cwd,
            stdio: "ignore",
            env: { ...process.env, npm_config_store_dir: join(cwd, ".store") }
          })
        const { repo, ws } = yield* setup({
          files: { ".gitignore": "node_modules/\n.store/\n" },
          before: (r) => {
            packDep(r.path, "1.0.0")
            packDep(r.path, "2.0.0")
            useDep(r.path, "1.0.0")
            pnpm(r.path, "install")
            r.commit("app with dep 1.0.0")
          }
        })
        const b = yield* ws.prepare({ runKey: makeRunKey("PNPM-1") })
        assert.deepStrictEqual(
          b.provisioned?.map((p) => p.kind),
          ["links"]
        )
        useDep(b.path, "2.0.0")
        pnpm(b.path, "install", "--lockfile-only")
        rmSync(join(b.path, ".store"), { recursive: true, force: true })
        repoAt(b.path).commit("agent upgrades dep")
        const verifier = yield* Effect.service(Verifier).pipe(Effect.provide(Verifier.layer.pipe(Layer.provide(Boxed))))
        const report = yield* verifier.run({
          cwd: b.path,
          steps: [new VerificationStep({ name: "which-dep", command: ["node", "-p", "require('dep').version"] })],
          logDir: join(repo.path, ".spec-orch/verify"),
          reinstall: true
        })
        assert.match(
          report.notes![0]!,
          /^pnpm-lock\.yaml changed on the run branch: the dependencies were reinstalled .*`pnpm install --frozen-lockfile --offline`/,
          readFileSync(join(repo.path, ".spec-orch/verify/00-reinstall-dependencies.log"), "utf8")
        )
        assert.strictEqual(report.steps[0]!.outputTail, "2.0.0")
        assert.strictEqual(
          node(repo.path, "console.log(require('dep').version)"),
          "1.0.0",
          "the main checkout's dependencies are untouched"
        )
        assert.strictEqual(gitStatus(b), "")
      }),
    120_000
  )

  it.live(
    "does nothing while the lockfile is unchanged",
    () =>
      Effect.gen(function* () {
        const { repo, b, verify } = yield* npmProject
        const report = yield* verify(true, "verify")
        assert.strictEqual(report.steps[0]!.outputTail, "1.0.0")
        assert.isUndefined(report.notes)
        assert.isTrue(existsSync(join(repo.path, ".spec-orch/verify/01-which-dep.log")))
        assert.isFalse(existsSync(join(repo.path, ".spec-orch/verify/00-reinstall-dependencies.log")))
        assert.isTrue(lstatSync(join(b.path, "node_modules/dep")).isSymbolicLink(), "still the provisioned links")
      }),
    120_000
  )
})

/** The real interpreter behind `python3` (not a shim), which venvs made here point at. */
const realPython = () =>
  execFileSync("python3", ["-c", "import os, sys; print(os.path.realpath(sys.executable))"], {
    encoding: "utf8"
  }).trim()

/** A venv at `dir` (no pip) whose site-packages holds a module `dep` at `version`. */
const venvWithDep = (python: string, dir: string, version: string) => {
  execFileSync(python, ["-m", "venv", "--without-pip", dir])
  const site = execFileSync(
    join(dir, "bin/python"),
    ["-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
    { encoding: "utf8" }
  ).trim()
  writeFileSync(join(site, "dep.py"), `version = "${version}"\n`)
}

const uvLock = (version: string) =>
  `version = 1\nrequires-python = ">=3.8"\n\n[[package]]\nname = "dep"\nversion = "${version}"\n`

/**
 * A stand-in for uv (not installable here: it comes only from PyPI, which this machine cannot reach)
 * that behaves as `uv sync --frozen --offline` does for the tests: it makes the project environment
 * `$UV_PROJECT_ENVIRONMENT` and installs `dep` at the version uv.lock names, from a cache that holds
 * 1.0.0 and 2.0.0; any other version fails as offline uv does. It lives where the box can see it
 * (the box's /tmp is its own).
 */
const uvStub = (python: string) => {
  const dir = join(
    import.meta.dirname,
    "../../node_modules/.cache",
    `uv-stub-${process.pid}-${Math.random().toString(36).slice(2)}`
  )
  mkdirSync(dir, { recursive: true })
  writeFileSync(
    join(dir, "uv"),
    `${[
      "#!/bin/sh",
      `[ "$1 $2" = "sync --frozen" ] || { echo "stub uv: unexpected arguments: $*" >&2; exit 64; }`,
      `version=$(sed -n 's/^version = "\\(.*\\)"$/\\1/p' uv.lock | head -n 1)`,
      `"${python}" -m venv --without-pip "$UV_PROJECT_ENVIRONMENT" || exit 1`,
      `echo "$*" > "$UV_PROJECT_ENVIRONMENT/uv-args"`,
      `case "$version" in 1.0.0|2.0.0) ;; *) echo "error: Failed to download \\\`dep==$version\\\`: network connectivity is disabled" >&2; exit 2 ;; esac`,
      `site=$("$UV_PROJECT_ENVIRONMENT/bin/python" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")`,
      `echo "version = \\"$version\\"" > "$site/dep.py"`,
      `echo "Installed 1 package"`
    ].join("\n")}\n`,
    { mode: 0o755 }
  )
  return dir
}

/** A uv project whose main checkout has `.venv` with dep 1.0.0 and uv.lock naming it; its worktree, where the agent locked `version`. */
const uvProject = (options: { workspace?: Record<string, unknown>; agentLocks: string }) =>
  Effect.gen(function* () {
    const python = realPython()
    const { repo, ws } = yield* setup({
      files: {
        "pyproject.toml": `[project]\nname = "app"\nversion = "1.0.0"\ndependencies = ["dep"]\n`,
        "uv.lock": uvLock("1.0.0"),
        ".gitignore": ".venv\n"
      },
      ...(options.workspace !== undefined ? { workspace: options.workspace } : {}),
      before: (r) => venvWithDep(python, join(r.path, ".venv"), "1.0.0")
    })
    const b = yield* ws.prepare({ runKey: makeRunKey("UV-1") })
    writeFileSync(join(b.path, "uv.lock"), uvLock(options.agentLocks))
    repoAt(b.path).commit("agent upgrades dep")
    const verifier = yield* Effect.service(Verifier).pipe(Effect.provide(Verifier.layer.pipe(Layer.provide(Boxed))))
    const verify = (reinstall: boolean, logs: string, path: string) =>
      verifier.run({
        cwd: b.path,
        steps: [
          new VerificationStep({ name: "which-dep", command: ["{python}", "-c", "import dep; print(dep.version)"] })
        ],
        logDir: join(repo.path, ".spec-orch", logs),
        env: { PATH: path },
        reinstall
      })
    return { repo, b, verify, python }
  })

describe("Verifier reinstalls a uv project's environment when the agent changed uv.lock", () => {
  const mainDep = (repo: TempRepo) =>
    execFileSync(join(repo.path, ".venv/bin/python"), ["-c", "import dep; print(dep.version)"], {
      encoding: "utf8"
    }).trim()

  it.live(
    "runs uv's frozen offline sync into the worktree's own .venv, the steps use it, and the report says so",
    () =>
      Effect.gen(function* () {
        const { repo, b, verify, python } = yield* uvProject({ agentLocks: "2.0.0" })
        const uv = uvStub(python)
        try {
          const stale = yield* verify(false, "stale", `${uv}:/usr/bin:/bin`)
          assert.strictEqual(
            stale.steps[0]!.outputTail,
            "1.0.0",
            "without the reinstall the steps see the main checkout's venv"
          )
          const report = yield* verify(true, "verify", `${uv}:/usr/bin:/bin`)
          assert.strictEqual(
            report.steps[0]!.outputTail,
            "2.0.0",
            `the steps ran with the dependencies uv.lock names: ${readFileSync(join(repo.path, ".spec-orch/verify/00-reinstall-python-dependencies.log"), "utf8")}`
          )
          assert.deepStrictEqual(report.notes, [report.notes![0]!])
          assert.match(
            report.notes![0]!,
            /^uv\.lock changed on the run branch: the dependencies were reinstalled in the worktree's \.venv before the steps \(`uv sync --frozen --offline`, [\d.]+ s; log: .*00-reinstall-python-dependencies\.log\)$/
          )
          assert.strictEqual(readFileSync(join(b.path, ".venv/uv-args"), "utf8").trim(), "sync --frozen --offline")
          assert.strictEqual(mainDep(repo), "1.0.0", "the main checkout's venv is untouched")
          assert.strictEqual(gitStatus(b), "", "git never sees the worktree's .venv")
        } finally {
          rmSync(uv, { recursive: true, force: true })
        }
      }),
    120_000
  )

  it.live(
    "unlinks a .venv linked from the main checkout before syncing, and links it again when the sync fails",
    () =>
      Effect.gen(function* () {
        const { repo, b, verify, python } = yield* uvProject({ workspace: { link: [".venv"] }, agentLocks: "9.0.0" })
        assert.strictEqual(readlinkSync(join(b.path, ".venv")), join(repo.path, ".venv"))
        const uv = uvStub(python)
        try {
          const report = yield* verify(true, "verify", `${uv}:/usr/bin:/bin`)
          assert.deepStrictEqual(report.notes, [report.notes![0]!])
          assert.match(
            report.notes![0]!,
            /^dependencies may be stale: uv\.lock changed on the run branch and reinstalling them \(`uv sync --frozen --offline`\) failed \(exit 2\); the steps ran with the main checkout's virtualenv, which the lockfile no longer describes\. Log: .*00-reinstall-python-dependencies\.log\. Allow the package index/
          )
          assert.include(
            readFileSync(join(repo.path, ".spec-orch/verify/00-reinstall-python-dependencies.log"), "utf8"),
            "network connectivity is disabled"
          )
          assert.strictEqual(readlinkSync(join(b.path, ".venv")), join(repo.path, ".venv"), "the link is back")
          assert.strictEqual(report.steps[0]!.outputTail, "1.0.0")
          assert.strictEqual(mainDep(repo), "1.0.0", "the sync never wrote through the link")
          assert.isFalse(existsSync(join(repo.path, ".venv/uv-args")))
        } finally {
          rmSync(uv, { recursive: true, force: true })
        }
      }),
    120_000
  )

  it.live(
    "says uv is not installed, instead of skipping silently, when uv.lock changed and no uv is on PATH",
    () =>
      Effect.gen(function* () {
        const { repo, b, verify } = yield* uvProject({ agentLocks: "2.0.0" })
        const empty = yield* tempDir("spec-orch-no-uv-")
        const report = yield* verify(true, "verify", empty)
        assert.deepStrictEqual(report.notes, [
          "uv.lock changed on the run branch; uv is not installed (no `uv` on the steps' PATH), so the dependencies were not reinstalled (`uv sync --frozen --offline`): " +
            "the steps ran with the main checkout's virtualenv, which uv.lock no longer describes. Install uv, or install the dependencies in a verification step"
        ])
        assert.strictEqual(report.steps[0]!.outputTail, "1.0.0")
        assert.isFalse(existsSync(join(b.path, ".venv")))
        assert.isFalse(existsSync(join(repo.path, ".spec-orch/verify/00-reinstall-python-dependencies.log")))
      }),
    120_000
  )
})
