/**
 * Reads a tracker token from the first of several environment variables (through effect's
 * ConfigProvider, so tests provide their own environment). The token stays `Redacted`: it never
 * reaches a log line, an error message or an agent.
 */
import { Config, Effect, Option, Redacted } from "effect"
import { type TrackerName, TrackerTokenMissing } from "../TrackerError.js"
import type { Token } from "./call.js"

/** The configured variable first, then the fallbacks, without duplicates. */
export const tokenEnvNames = (configured: string, fallbacks: ReadonlyArray<string>): ReadonlyArray<string> => [
  ...new Set([configured, ...fallbacks])
]

/** The token from the first set variable of `envNames`. */
export const readToken = (
  tracker: TrackerName,
  envNames: ReadonlyArray<string>
): Effect.Effect<Token, TrackerTokenMissing> =>
  Effect.gen(function* () {
    for (const envName of envNames) {
      const value = yield* Config.option(Config.String(envName)).pipe(Effect.orElseSucceed(() => Option.none<string>()))
      if (Option.isSome(value) && value.value.trim() !== "")
        return { value: Redacted.make(value.value.trim()), envName }
    }
    return yield* new TrackerTokenMissing({ tracker, envNames: [...envNames] })
  })
