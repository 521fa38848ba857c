/** Handlers for `spec-orch daemon install|stop`: a systemd user unit for the daemon, and stopping a running one. */
import { existsSync, readFileSync } from "node:fs"
import { homedir, hostname } from "node:os"
import { Project } from "@spec-orch/contract"
import { ownerAlive, readHeartbeat } from "@spec-orch/control"
import { hostEnvironment } from "@spec-orch/harness"
import { Console, Effect, FileSystem, Layer, Option, Path } from "effect"
import { emit, ExitCode, setExitCode } from "../Output.js"
import { withProject } from "../ProjectScope.js"

/** `effect` with the project from the root flags only (no state database is opened). */
const withProjectOnly = withProject(Layer.empty)

/** The unit's name part: the project directory's name, reduced to what systemd unit names allow. */
const unitNameOf = (root: string, path: Path.Path) =>
  `spec-orch-${
    path
      .basename(root)
      .replace(/[^A-Za-z0-9_.-]+/g, "-")
      .replace(/^-+|-+$/g, "") || "project"
  }`

/** A systemd argument: `%` and `$` escaped as systemd reads them, quoted when it needs it. */
const quote = (arg: string) => {
  const escaped = arg.replaceAll("%", "%%").replaceAll("$", "$$$$")
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(escaped) ? escaped : `"${escaped.replace(/(["\\])/g, "\\$1")}"`
}

export const install = (input: { print: boolean; json: boolean }) =>
  withProjectOnly(
    Effect.gen(function* () {
      const project = yield* Project
      const fs = yield* FileSystem.FileSystem
      const path = yield* Path.Path
      const env = yield* hostEnvironment
      const name = unitNameOf(project.root, path)
      const configHome =
        env.XDG_CONFIG_HOME !== undefined && env.XDG_CONFIG_HOME !== ""
          ? env.XDG_CONFIG_HOME
          : path.join(env.HOME ?? homedir(), ".config")
      const file = path.join(configHome, "systemd", "user", `${name}.service`)
      // The program that runs now runs the daemon: the same Node and the same spec-orch.
      const bin = path.resolve(process.argv[1] ?? "spec-orch")
      const exec = [process.execPath, bin, "--cwd", project.root, "daemon", "start"].map(quote).join(" ")
      const unit = [
        "[Unit]",
        `Description=spec-orch daemon for ${project.root}`,
        "After=network-online.target",
        "Wants=network-online.target",
        "",
        "[Service]",
        "Type=simple",
        // Paths in these settings are taken literally: only specifiers (%) are escaped.
        `WorkingDirectory=${project.root.replaceAll("%", "%%")}`,
        `ExecStart=${exec}`,
        // SIGTERM is the daemon's normal stop: it finishes its shutdown and exits 0; runs in flight resume on the next start.
        "KillSignal=SIGTERM",
        "TimeoutStopSec=120",
        "Restart=on-failure",
        "RestartSec=10",
        // Tokens (LINEAR_API_KEY, GITHUB_TOKEN, …) come from the project's .env, never from this file.
        `EnvironmentFile=-${path.join(project.root, ".env").replaceAll("%", "%%")}`,
        "",
        "[Install]",
        "WantedBy=default.target",
        ""
      ].join("\n")
      if (input.print) {
        yield* emit(input.json, { file, unit, written: false }, () => unit.trimEnd())
        return
      }
      const before = yield* fs.readFileString(file).pipe(Effect.option)
      const same = Option.isSome(before) && before.value === unit
      if (!same) {
        yield* fs.makeDirectory(path.dirname(file), { recursive: true })
        yield* fs.writeFileString(file, unit)
      }
      yield* emit(input.json, { file, unit, written: !same }, () => [
        same
          ? `${file} is already installed and up to date.`
          : `${Option.isSome(before) ? "Updated" : "Wrote"} ${file}.`,
        "Start it now and at every login with:",
        `  systemctl --user daemon-reload && systemctl --user enable --now ${name}`,
        `Its log: journalctl --user -u ${name} -f; its state: spec-orch daemon status`
      ])
    })
  )

/** Whether `pid` of this host still runs. */
const alive = (pid: number) => ownerAlive(`${hostname()}:${pid}`, hostname())

/** On Linux, whether `pid` is a spec-orch daemon (a recycled pid belongs to another program). */
const looksLikeDaemon = (pid: number): boolean => {
  const file = `/proc/${pid}/cmdline`
  if (!existsSync(file)) return true
  try {
    return readFileSync(file, "utf8").split("\0").includes("daemon")
  } catch {
    return true
  }
}

export const stop = (input: { timeout: number; json: boolean }) =>
  withProjectOnly(
    Effect.gen(function* () {
      const { file, heartbeat } = yield* readHeartbeat()
      const none = (message: string) => emit(input.json, { stopped: false, running: false, message }, () => message)
      if (heartbeat === undefined)
        return yield* none(`No daemon is running here: there is no heartbeat (${file}). Nothing to stop.`)
      const pid = heartbeat.pid
      if (heartbeat.host !== hostname()) {
        yield* setExitCode(ExitCode.failure)
        return yield* emit(
          input.json,
          {
            stopped: false,
            running: true,
            pid,
            host: heartbeat.host,
            message: `the daemon runs on host ${heartbeat.host} (pid ${pid}); stop it there`
          },
          () =>
            `The daemon of this project runs on host ${heartbeat.host} (pid ${pid}), not here; run \`spec-orch daemon stop\` on ${heartbeat.host}.`
        )
      }
      if (heartbeat.status === "stopped" || !alive(pid) || !looksLikeDaemon(pid)) {
        return yield* none(
          `No daemon is running here: the last one (pid ${pid}) ${heartbeat.status === "stopped" ? `stopped at ${heartbeat.at}` : "is gone"}. Nothing to stop.`
        )
      }
      yield* Effect.sync(() => process.kill(pid, "SIGTERM"))
      yield* Console.error(
        `Sent SIGTERM to the daemon (pid ${pid}); waiting up to ${input.timeout} s for it to finish its shutdown…`
      )
      const deadline = Date.now() + input.timeout * 1000
      while (alive(pid) && Date.now() < deadline) yield* Effect.sleep("100 millis")
      if (alive(pid)) {
        yield* setExitCode(ExitCode.failure)
        return yield* emit(
          input.json,
          { stopped: false, running: true, pid, message: `still running after ${input.timeout} s` },
          () =>
            `The daemon (pid ${pid}) is still running after ${input.timeout} s (it may be cancelling runs in flight). Wait and run \`spec-orch daemon stop\` again, or end it with \`kill -9 ${pid}\` (its runs resume on the next start).`
        )
      }
      yield* emit(
        input.json,
        { stopped: true, running: false, pid, message: "stopped" },
        () => `Stopped the daemon (pid ${pid}). Runs in flight resume when it starts again.`
      )
    })
  )
