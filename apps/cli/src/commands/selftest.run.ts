/**
 * Handler of `spec-orch selftest`: copies the example that ships beside the bin into a fresh git
 * repository and runs `spec-orch run HELLO-1 --auto-approve` there with this binary, as a person would.
 */
import { Console, Effect } from "effect"
import { spawnSync } from "node:child_process"
import { cpSync, existsSync, mkdtempSync, readFileSync, realpathSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { emit, ExitCode, setExitCode } from "../Output.js"

/**
 * The example project shipped in dist/example (or the repository's, when run from a clone's sources).
 * The bin may be a link (npm's node_modules/.bin/spec-orch, ~/.local/bin): the example is beside its target.
 */
const exampleDir = (): string | undefined => {
  const bin = existsSync(process.argv[1] ?? "") ? realpathSync(process.argv[1]!) : ""
  const candidates = [
    join(dirname(bin), "example", "hello-node"),
    join(dirname(bin), "..", "..", "..", "examples", "hello-node")
  ]
  return candidates.find((d) => existsSync(join(d, "spec-orch.toml")))
}

export const selftest = ({ keep, json }: { keep: boolean; json: boolean }) =>
  Effect.gen(function* () {
    const example = exampleDir()
    if (example === undefined) {
      yield* Console.error(
        "spec-orch: selftest: the example project is missing next to the binary (dist/example/hello-node); rebuild spec-orch"
      )
      return yield* setExitCode(ExitCode.failure)
    }
    const dir = mkdtempSync(join(tmpdir(), "spec-orch-selftest-"))
    cpSync(example, dir, { recursive: true })
    const git = (...args: Array<string>) =>
      spawnSync("git", ["-c", "user.name=spec-orch selftest", "-c", "user.email=selftest@spec-orch.invalid", ...args], {
        cwd: dir,
        encoding: "utf8"
      })
    git("init", "-q")
    git("add", "-A")
    const committed = git("commit", "-qm", "hello-node example")
    if (committed.status !== 0) {
      yield* Console.error(
        `spec-orch: selftest: git could not commit the example in ${dir}: ${committed.stderr.trim()}`
      )
      return yield* setExitCode(ExitCode.failure)
    }
    const started = Date.now()
    const r = spawnSync(
      process.execPath,
      [process.argv[1]!, "--cwd", dir, "run", "HELLO-1", "--auto-approve", "--json"],
      { encoding: "utf8", env: process.env }
    )
    const seconds = (Date.now() - started) / 1000
    let record: Record<string, any> | undefined
    try {
      record = JSON.parse(r.stdout)
    } catch {
      record = undefined
    }
    const ok = r.status === 0 && record?.status === "succeeded"
    const evidence = join(dir, ".spec-orch", "runs", "HELLO-1-r1", "evidence.json")
    const confined = existsSync(evidence)
      ? JSON.parse(readFileSync(evidence, "utf8")).builder?.sandbox?.confined
      : undefined
    const result = {
      ok,
      seconds: Math.round(seconds * 10) / 10,
      status: record?.status ?? "did not finish",
      sandbox: confined === true ? "confined" : confined === false ? "NOT confined" : "unknown",
      project: dir,
      ...(ok ? {} : { stderr: r.stderr.trim().split("\n").slice(-10).join("\n") })
    }
    yield* emit(json, result, () =>
      ok
        ? `selftest: HELLO-1 MERGEABLE in ${result.seconds}s (agent and verification ${result.sandbox})${keep ? `; project kept in ${dir}` : ""}`
        : `selftest FAILED: HELLO-1 ${result.status} after ${result.seconds}s. The project is kept in ${dir}; \`spec-orch --cwd ${dir} explain HELLO-1\` says why.\n${result.stderr ?? ""}`
    )
    if (!ok) return yield* setExitCode(ExitCode.failure)
    if (!keep) rmSync(dir, { recursive: true, force: true })
  })
