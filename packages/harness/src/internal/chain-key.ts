/**
 * The API key of one request of a chain: the environment's value, or the first line `token_command`
 * prints (run for every call). A key that cannot be had is an `AuthenticationError`, never a retry.
 */
import { Effect, Option, Redacted, Stream } from "effect"
import { AiError } from "effect/ai"
import { ChildProcess, type ChildProcessSpawner } from "effect/process"
import type { ModelProfile } from "../ModelRegistry.js"
import { PROVIDER_MODULE } from "../Providers.js"
import { clip } from "./chain-failures.js"

/** The key for one call: the env value, or the output of `token_command` (run for every call, as the original does). */
export const keyFor = (
  profile: ModelProfile,
  cwd: string | undefined,
  spawner: Option.Option<ChildProcessSpawner.ChildProcessSpawner["Service"]>
) => {
  const module = PROVIDER_MODULE[profile.apiType]
  const missing = (description: string) =>
    AiError.make({
      module,
      method: "generateText",
      reason: new AiError.AuthenticationError({ kind: "MissingKey", description })
    })
  const key = profile.key
  if (key === undefined)
    return Effect.fail(missing(`${profile.id} needs ${profile.missing.join(" and ")} (unset or empty)`))
  if (key.kind === "env") return Effect.succeed(key.value)
  if (Option.isNone(spawner))
    return Effect.fail(missing(`${profile.id}: token_command of ${key.where} cannot run here (no process spawner)`))
  const run = Effect.scoped(
    Effect.gen(function* () {
      const handle = yield* spawner.value.spawn(
        ChildProcess.make("sh", ["-c", key.command], cwd !== undefined ? { cwd } : {})
      )
      const text = <E>(s: Stream.Stream<Uint8Array, E>) => s.pipe(Stream.decodeText(), Stream.mkString)
      const [stdout, stderr, exitCode] = yield* Effect.all(
        [text(handle.stdout), text(handle.stderr), handle.exitCode],
        { concurrency: "unbounded" }
      )
      return { stdout: stdout.trim(), stderr: stderr.trim(), exitCode: Number(exitCode) }
    })
  )
  return run.pipe(
    Effect.timeoutOrElse({
      duration: "30 seconds",
      orElse: () => Effect.succeed({ stdout: "", stderr: "timed out after 30 s", exitCode: -1 })
    }),
    Effect.catch((e) =>
      Effect.succeed({
        stdout: "",
        stderr: String((e as { message?: unknown } | undefined)?.message ?? e),
        exitCode: -1
      })
    ),
    Effect.flatMap((r) => {
      if (r.exitCode === 0 && r.stdout !== "") return Effect.succeed(Redacted.make(r.stdout.split("\n")[0]!.trim()))
      const why =
        r.exitCode !== 0
          ? `exited with ${r.exitCode}${r.stderr !== "" ? `: ${clip(r.stderr.split("\n")[0]!, 200)}` : ""}`
          : "printed nothing"
      return Effect.fail(missing(`${profile.id}: token_command of ${key.where} ${why}`))
    })
  )
}
