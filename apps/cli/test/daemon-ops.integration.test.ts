/** `spec-orch daemon install` (a systemd user unit) and `daemon stop` against a real daemon process. */
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect } from "effect"
import { execFileSync, spawn, spawnSync } from "node:child_process"
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { cli } from "./cli.js"
import { waitFor } from "./utils/project.js"

const BIN = process.env.SPEC_ORCH_CLI ?? join(import.meta.dirname, "../dist/main.js")
const example = join(import.meta.dirname, "../../../examples/hello-node")

/** The quick-start project in git, with no issues (the daemon idles). */
const project = () => {
  const dir = join(mkdtempSync(join(tmpdir(), "daemon-ops-")), "hello app")
  cpSync(example, dir, { recursive: true })
  rmSync(join(dir, "fixtures/issues"), { recursive: true })
  const env = {
    ...process.env,
    GIT_AUTHOR_NAME: "t",
    GIT_AUTHOR_EMAIL: "t@t",
    GIT_COMMITTER_NAME: "t",
    GIT_COMMITTER_EMAIL: "t@t"
  }
  execFileSync("git", ["init", "-q", "-b", "main"], { cwd: dir, env })
  execFileSync("git", ["add", "-A"], { cwd: dir, env })
  execFileSync("git", ["commit", "-qm", "init"], { cwd: dir, env })
  return dir
}
const run = (dir: string, ...args: Array<string>) =>
  spawnSync(process.execPath, [BIN, ...args], { cwd: dir, encoding: "utf8", env: { ...process.env, FORCE_COLOR: "0" } })
const withEnv = (env: Record<string, string>, ...args: Array<string>) =>
  cli(...args).pipe(
    Effect.provide(
      ConfigProvider.layer(ConfigProvider.fromEnv({ env: { ...(process.env as Record<string, string>), ...env } }))
    )
  )

describe("spec-orch daemon install|stop", () => {
  it.effect(
    "install writes the unit under $XDG_CONFIG_HOME, --print only prints it, a second install changes nothing",
    () =>
      Effect.gen(function* () {
        const dir = project()
        const config = mkdtempSync(join(tmpdir(), "xdg-config-"))
        const unitFile = join(config, "systemd/user/spec-orch-hello-app.service")
        const printed = yield* withEnv({ XDG_CONFIG_HOME: config }, "--cwd", dir, "daemon", "install", "--print")
        assert.strictEqual(printed.code, 0, printed.stderr)
        assert.match(printed.stdout, /^\[Unit\]\nDescription=spec-orch daemon for /)
        assert.isFalse(existsSync(unitFile), "--print writes nothing")
        const r = yield* withEnv({ XDG_CONFIG_HOME: config }, "--cwd", dir, "daemon", "install")
        assert.strictEqual(r.code, 0, r.stderr)
        assert.include(r.stdout, `Wrote ${unitFile}.`)
        assert.include(r.stdout, "systemctl --user daemon-reload && systemctl --user enable --now spec-orch-hello-app")
        const unit = readFileSync(unitFile, "utf8")
        assert.include(unit, `\nWorkingDirectory=${dir}\n`)
        assert.match(unit, new RegExp(`^ExecStart=\\S+ \\S+ --cwd "${dir}" daemon start$`, "m"))
        assert.include(unit, "WantedBy=default.target")
        assert.strictEqual(unit, `${printed.stdout}\n`)
        const again = yield* withEnv({ XDG_CONFIG_HOME: config }, "--cwd", dir, "daemon", "install")
        assert.include(again.stdout, "is already installed and up to date")
      })
  )

  it.live(
    "stop ends a running daemon gracefully and says so when none runs",
    () =>
      Effect.promise(async () => {
        const dir = project()
        const none = run(dir, "daemon", "stop")
        assert.strictEqual(none.status, 0, none.stderr)
        assert.match(none.stdout, /^No daemon is running here: there is no heartbeat/)

        const child = spawn(process.execPath, [BIN, "daemon", "start", "--source", "fixture"], {
          cwd: dir,
          env: { ...process.env, FORCE_COLOR: "0" },
          stdio: ["ignore", "pipe", "pipe"]
        })
        let output = ""
        child.stdout!.on("data", (d) => (output += d))
        child.stderr!.on("data", (d) => (output += d))
        const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
          child.on("exit", (code, signal) => resolve({ code, signal }))
        )
        const heartbeat = join(dir, ".spec-orch/daemon/heartbeat.json")
        await waitFor(
          () => existsSync(heartbeat) && /"status": "(starting|healthy)"/.test(readFileSync(heartbeat, "utf8"))
        )

        const stopped = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
          const c = spawn(process.execPath, [BIN, "daemon", "stop", "--timeout", "60"], {
            cwd: dir,
            env: { ...process.env, FORCE_COLOR: "0" },
            stdio: ["ignore", "pipe", "pipe"]
          })
          let stdout = ""
          let stderr = ""
          c.stdout.on("data", (d) => (stdout += d))
          c.stderr.on("data", (d) => (stderr += d))
          c.on("exit", (status) => resolve({ status, stdout, stderr }))
        })
        assert.strictEqual(stopped.status, 0, stopped.stderr + output)
        assert.match(stopped.stdout, new RegExp(`^Stopped the daemon \\(pid ${child.pid}\\)`))
        assert.deepStrictEqual(await exit, { code: 0, signal: null }, output)
        assert.match(readFileSync(heartbeat, "utf8"), /"status": "stopped"/)

        const after = run(dir, "daemon", "stop", "--json")
        assert.strictEqual(after.status, 0)
        const doc = JSON.parse(after.stdout)
        assert.strictEqual(doc.running, false)
        assert.match(doc.message, new RegExp(`the last one \\(pid ${child.pid}\\) stopped at`))
      }),
    { timeout: 120_000 }
  )
})
