import { assert, describe, it } from "@effect/vitest"
import { type StepResult, VerificationStep } from "@spec-orch/contract"
import { processAlive, tempDir } from "@spec-orch/test-kit"
import { environmentProvider, Redactor } from "@spec-orch/harness"
import { ConfigProvider, Deferred, Effect, Fiber, Layer } from "effect"
import { TestClock } from "effect/testing"
import { spawn } from "node:child_process"
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { Verifier } from "../src/index.js"
import { Unboxed } from "./utils/layers.js"

const step = (name: string, command: string | ReadonlyArray<string>, timeoutSeconds?: number) =>
  new VerificationStep({ name, command, ...(timeoutSeconds !== undefined ? { timeoutSeconds } : {}) })

/** Runs `steps` in a fresh temp dir with the real layer; returns the report, the dir and the log dir. */
const verify = (
  steps: ReadonlyArray<VerificationStep>,
  {
    secrets,
    ...options
  }: {
    defaultTimeoutSeconds?: number
    onStep?: (r: StepResult) => Effect.Effect<void>
    onOutput?: () => Effect.Effect<void>
    env?: Record<string, string>
    secrets?: Record<string, string>
  } = {}
) =>
  Effect.gen(function* () {
    const cwd = yield* tempDir("spec-orch-verify-")
    const logDir = join(cwd, ".logs")
    // `secrets`: the environment the redactor knows (the steps' own environment is the host's, scrubbed).
    const layer = Verifier.layer.pipe(Layer.provide(Redactor.layerFrom(secrets ?? {})), Layer.provide(Unboxed))
    const verifier = yield* Effect.service(Verifier).pipe(Effect.provide(layer))
    const report = yield* verifier.run({ cwd, steps, logDir, ...options })
    return { report, cwd, logDir }
  })

const alive = processAlive

describe("Verifier.run", () => {
  it.live("passes a step that exits 0, recording the command, output tail, duration and log", () =>
    Effect.gen(function* () {
      const { report, logDir } = yield* verify([step("unit tests", ["node", "-e", "console.log('all 3 tests ok')"])])
      const [r] = report.steps
      assert.strictEqual(r!.outcome, "passed")
      assert.strictEqual(r!.exitCode, 0)
      assert.deepStrictEqual(r!.command, ["node", "-e", "console.log('all 3 tests ok')"])
      assert.strictEqual(r!.outputTail, "all 3 tests ok")
      assert.isAtLeast(r!.durationMs, 0)
      assert.strictEqual(r!.logPath, join(logDir, "01-unit-tests.log"))
      const log = readFileSync(r!.logPath!, "utf8")
      assert.include(log, "# step: unit tests")
      assert.include(log, "all 3 tests ok")
      assert.include(log, "# outcome: passed (exit 0)")
    })
  )

  it.live("fails a step that exits non-zero, with stdout and stderr combined, and runs the remaining steps", () =>
    Effect.gen(function* () {
      const seen: Array<string> = []
      const { report, logDir } = yield* verify(
        [
          step("lint", "echo checking; echo 'src/a.ts:3 unused variable' >&2; exit 3"),
          step("build", ["node", "-e", "process.exit(0)"])
        ],
        { onStep: (r) => Effect.sync(() => void seen.push(`${r.name}:${r.outcome}`)) }
      )
      const [lint, build] = report.steps
      assert.strictEqual(lint!.outcome, "failed")
      assert.strictEqual(lint!.exitCode, 3)
      assert.deepStrictEqual(lint!.command.slice(0, 2), ["sh", "-c"])
      assert.strictEqual(lint!.outputTail, "checking\nsrc/a.ts:3 unused variable")
      assert.strictEqual(build!.outcome, "passed")
      assert.deepStrictEqual(seen, ["lint:failed", "build:passed"])
      assert.deepStrictEqual(readdirSync(logDir).sort(), ["01-lint.log", "02-build.log"])
    })
  )

  it.live("keeps only the last 40 lines of output in the tail, the whole output in the log", () =>
    Effect.gen(function* () {
      const { report } = yield* verify([step("noisy", ["node", "-e", "for (let i = 1; i <= 100; i++) console.log(i)"])])
      const tail = report.steps[0]!.outputTail.split("\n")
      assert.strictEqual(tail.length, 40)
      assert.strictEqual(tail[0], "61")
      assert.strictEqual(tail.at(-1), "100")
      assert.include(readFileSync(report.steps[0]!.logPath!, "utf8"), "\n1\n2\n3\n")
    })
  )

  it.effect("times out a hanging step and kills its whole process tree (time from the Clock)", () =>
    Effect.gen(function* () {
      const started = yield* Deferred.make<void>()
      const fiber = yield* verify(
        [step("hang", "echo $$ > shell.pid; sleep 300 & echo $! > child.pid; echo up; wait", 900)],
        {
          onOutput: () => Deferred.succeed(started, undefined).pipe(Effect.asVoid)
        }
      ).pipe(Effect.forkChild)
      yield* Deferred.await(started)
      yield* TestClock.adjust("899 seconds")
      assert.isUndefined(fiber.pollUnsafe(), "still running one second before its timeout")
      yield* TestClock.adjust("1 second")
      const { report, cwd } = yield* Fiber.join(fiber)
      const r = report.steps[0]!
      assert.strictEqual(r.outcome, "timed_out")
      assert.strictEqual(r.exitCode, null)
      assert.include(r.note!, "no exit after 900 s")
      const shell = Number(readFileSync(join(cwd, "shell.pid"), "utf8"))
      const child = Number(readFileSync(join(cwd, "child.pid"), "utf8"))
      assert.isFalse(alive(shell), `shell ${shell} still running`)
      assert.isFalse(alive(child), `background sleep ${child} still running`)
    })
  )

  it.effect("uses the default timeout for steps without their own", () =>
    Effect.gen(function* () {
      const started = yield* Deferred.make<void>()
      const fiber = yield* verify([step("slow", "echo up; exec sleep 300")], {
        defaultTimeoutSeconds: 60,
        onOutput: () => Deferred.succeed(started, undefined).pipe(Effect.asVoid)
      }).pipe(Effect.forkChild)
      yield* Deferred.await(started)
      yield* TestClock.adjust("60 seconds")
      const { report } = yield* Fiber.join(fiber)
      assert.strictEqual(report.steps[0]!.outcome, "timed_out")
      assert.include(report.steps[0]!.note!, "no exit after 60 s")
    })
  )

  it.live("reports a missing binary, naming it, for argv and shell steps", () =>
    Effect.gen(function* () {
      const { report } = yield* verify([
        step("argv", ["definitely-not-installed-xyz", "--version"]),
        step("shell", "definitely-not-installed-xyz --version")
      ])
      const [argv, shell] = report.steps
      assert.strictEqual(argv!.outcome, "missing_binary")
      assert.strictEqual(argv!.exitCode, null)
      assert.strictEqual(argv!.note, "definitely-not-installed-xyz was not found on PATH")
      assert.strictEqual(shell!.outcome, "missing_binary")
      assert.strictEqual(shell!.exitCode, 127)
      assert.strictEqual(shell!.note, "definitely-not-installed-xyz: command not found (exit 127)")
    })
  )

  it.live("reports a step killed by a signal as crashed", () =>
    Effect.gen(function* () {
      const { report } = yield* verify([
        step("direct", ["sh", "-c", "kill -9 $$"]),
        step("via shell", "sh -c 'kill -9 $$'; exit $?")
      ])
      const [direct, viaShell] = report.steps
      assert.strictEqual(direct!.outcome, "crashed")
      assert.strictEqual(direct!.exitCode, null)
      assert.strictEqual(direct!.note, "killed by SIGKILL")
      assert.strictEqual(viaShell!.outcome, "crashed")
      assert.strictEqual(viaShell!.exitCode, 137)
      assert.include(viaShell!.note!, "killed by SIGKILL")
    })
  )

  it.live("substitutes {python}, {node} and {workspace}", () =>
    Effect.gen(function* () {
      const { report, cwd } = yield* verify([
        step("py argv", ["{python}", "-c", "print(40 + 2)"]),
        step("py shell", "{python} -c 'import os; print(os.getcwd())'"),
        step("node", ["{node}", "-e", "console.log(process.argv[1])", "{workspace}/x"])
      ])
      const [argv, shell, node] = report.steps
      assert.strictEqual(argv!.outcome, "passed")
      assert.match(argv!.command[0]!, /\/python3?$/)
      assert.strictEqual(argv!.outputTail, "42")
      assert.strictEqual(shell!.outputTail, cwd)
      assert.notInclude(shell!.command[2]!, "{python}")
      assert.deepStrictEqual(node!.command, [process.execPath, "-e", "console.log(process.argv[1])", `${cwd}/x`])
      assert.strictEqual(node!.outputTail, `${cwd}/x`)
    })
  )

  it.live("reports {python} as a missing binary when no python is on PATH", () =>
    Effect.gen(function* () {
      const empty = yield* tempDir("spec-orch-empty-path-")
      const { report } = yield* verify([step("py", ["{python}", "-V"])]).pipe(
        Effect.provideService(ConfigProvider.ConfigProvider, environmentProvider({ PATH: empty }))
      )
      assert.strictEqual(report.steps[0]!.outcome, "missing_binary")
      assert.include(report.steps[0]!.note!, "neither python3 nor python is on PATH")
    })
  )

  it.live("fails every step readably when the working directory does not exist", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir()
      const verifier = yield* Effect.service(Verifier).pipe(Effect.provide(Verifier.layer.pipe(Layer.provide(Unboxed))))
      const report = yield* verifier.run({
        cwd: join(dir, "gone"),
        steps: [step("t", ["true"])],
        logDir: join(dir, "logs")
      })
      assert.strictEqual(report.steps[0]!.outcome, "failed")
      assert.include(report.steps[0]!.note!, "does not exist")
      assert.isTrue(existsSync(join(dir, "logs", "01-t.log")))
    })
  )

  it.live(
    "gives steps a scrubbed environment: no tracker, SCM, cloud or model credentials; [verification.env] added",
    () =>
      Effect.gen(function* () {
        const host = {
          PATH: process.env.PATH ?? "/usr/bin:/bin",
          HOME: "/home/someone",
          LANG: "C.UTF-8",
          GITHUB_TOKEN: "ghp_secret",
          SPEC_ORCH_LINEAR_TOKEN: "lin",
          ANTHROPIC_API_KEY: "sk-ant-x",
          AWS_SECRET_ACCESS_KEY: "aws",
          OPENAI_API_KEY: "sk-x",
          DATABASE_PASSWORD: "pw"
        }
        const { report, cwd } = yield* Effect.gen(function* () {
          const cwd = yield* tempDir("spec-orch-verify-env-")
          const verifier = yield* Effect.service(Verifier).pipe(
            Effect.provide(Verifier.layer.pipe(Layer.provide(Unboxed)))
          )
          const report = yield* verifier.run({
            cwd,
            steps: [step("env", "env > env.txt")],
            logDir: join(cwd, ".logs"),
            env: { FROM_CONFIG: "yes", GH_TOKEN: "refused" }
          })
          return { report, cwd }
        }).pipe(Effect.provideService(ConfigProvider.ConfigProvider, environmentProvider(host)))
        assert.strictEqual(report.steps[0]!.outcome, "passed")
        const env = Object.fromEntries(
          readFileSync(join(cwd, "env.txt"), "utf8")
            .trim()
            .split("\n")
            .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)])
        )
        for (const k of [
          "GITHUB_TOKEN",
          "SPEC_ORCH_LINEAR_TOKEN",
          "ANTHROPIC_API_KEY",
          "AWS_SECRET_ACCESS_KEY",
          "OPENAI_API_KEY",
          "DATABASE_PASSWORD",
          "GH_TOKEN"
        ])
          assert.notProperty(env, k)
        assert.strictEqual(env.FROM_CONFIG, "yes")
        assert.strictEqual(env.HOME, "/home/someone")
        assert.strictEqual(env.LANG, "C.UTF-8")
        assert.match(
          env.XDG_CACHE_HOME!,
          /spec-orch-verify-cache-/,
          "caches live for one verification, outside logs and worktree"
        )
      })
  )

  it.live("ends a step a killed controller left running before it starts the steps again", () =>
    Effect.gen(function* () {
      const cwd = yield* tempDir("spec-orch-verify-reap-")
      const logDir = join(cwd, ".logs")
      mkdirSync(logDir)
      const orphan = spawn("sleep", ["300"], { detached: true, stdio: "ignore" })
      orphan.unref()
      const stat = readFileSync(`/proc/${orphan.pid}/stat`, "utf8")
      writeFileSync(
        join(logDir, "01-test.pid"),
        `${orphan.pid} ${stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]}\n`
      )
      const verifier = yield* Effect.service(Verifier).pipe(Effect.provide(Verifier.layer.pipe(Layer.provide(Unboxed))))
      const report = yield* verifier.run({ cwd, steps: [step("t", ["true"])], logDir })
      assert.strictEqual(report.steps[0]!.outcome, "passed")
      assert.isFalse(alive(orphan.pid!), "the step left by the dead controller was ended")
      assert.isFalse(existsSync(join(logDir, "01-test.pid")))
    })
  )

  it.live("keeps colour codes out of the output tail that reports quote", () =>
    Effect.gen(function* () {
      const { report } = yield* verify([
        step("colour", "printf '\\033[31mFAIL\\033[0m \\033[1mbold\\033[22m\\n'; exit 1")
      ])
      assert.strictEqual(report.steps[0]!.outputTail, "FAIL bold")
    })
  )

  describe("redaction", () => {
    const token = "ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
    const deploy = "deploy-7f3a9c2e51b84d06"
    const secrets = { STEP_DEPLOY_TOKEN: deploy }
    /** Everything the verification wrote or reported: the report and every log. */
    const everything = (report: unknown, logDir: string) =>
      [JSON.stringify(report), ...readdirSync(logDir).map((f) => readFileSync(join(logDir, f), "utf8"))].join("\n")

    it.live(
      "redacts a secret whose line arrives in pieces, with the other stream writing in between or after a long run of output",
      () =>
        Effect.gen(function* () {
          // The pieces come from the environment, so no piece is on the command line the report shows.
          const env = {
            PIECE_1: token.slice(0, 20),
            PIECE_2: token.slice(20),
            PIECE_3: deploy.slice(0, 11),
            PIECE_4: deploy.slice(11)
          }
          const { report, logDir } = yield* verify(
            [
              // stdout starts the line, stderr writes a whole line, stdout ends the line: each write its own read.
              step(
                "interleaved",
                `printf "pushing with $PIECE_1"; sleep 0.2; echo 'progress 50%' >&2; sleep 0.2; printf "$PIECE_2 and $PIECE_3"; sleep 0.2; printf "$PIECE_4\\n"; exit 1`
              ),
              // A line that is already long when the secret starts.
              step(
                "long line",
                `head -c 65530 /dev/zero | tr '\\0' x; printf " $PIECE_1"; sleep 0.2; printf "$PIECE_2\\n"`
              )
            ],
            { secrets, env }
          )
          const [interleaved, long] = report.steps
          assert.strictEqual(
            interleaved!.outputTail,
            "progress 50%\npushing with [redacted:github-token] and [redacted:STEP_DEPLOY_TOKEN]"
          )
          assert.include(
            readFileSync(interleaved!.logPath!, "utf8"),
            "\nprogress 50%\npushing with [redacted:github-token] and [redacted:STEP_DEPLOY_TOKEN]\n"
          )
          assert.include(readFileSync(long!.logPath!, "utf8"), `\n${"x".repeat(65530)} [redacted:github-token]\n`)
          const written = everything(report, logDir)
          for (const part of Object.values(env)) assert.notInclude(written, part)
        })
    )

    it.live("redacts secrets on a step's command line from the reported command, the note and the log", () =>
      Effect.gen(function* () {
        const { report, logDir } = yield* verify(
          [
            step("deploy", [
              "node",
              "-e",
              "process.exit(0)",
              "--",
              `--password=${deploy}`,
              "-H",
              `Authorization: Bearer ${token}`
            ]),
            // A token pasted where a command belongs: the shell's complaint quotes it, and the note quotes that.
            step("pasted", `${token} --version`)
          ],
          { secrets }
        )
        const [argv, shell] = report.steps
        assert.deepStrictEqual(argv!.command, [
          "node",
          "-e",
          "process.exit(0)",
          "--",
          "--password=[redacted:STEP_DEPLOY_TOKEN]",
          "-H",
          "Authorization: Bearer [redacted:authorization]"
        ])
        assert.strictEqual(argv!.outcome, "passed")
        assert.deepStrictEqual(shell!.command, ["sh", "-c", "[redacted:github-token] --version"])
        assert.strictEqual(shell!.outcome, "missing_binary")
        assert.strictEqual(shell!.note, "[redacted:github-token]: command not found (exit 127)")
        assert.include(
          readFileSync(argv!.logPath!, "utf8"),
          `# command: ["node","-e","process.exit(0)","--","--password=[redacted:STEP_DEPLOY_TOKEN]"`
        )
        const written = everything(report, logDir)
        for (const secret of [token, deploy]) assert.notInclude(written, secret)
      })
    )
  })
})
