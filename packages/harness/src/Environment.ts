/**
 * The host environment, read through Effect's `ConfigProvider` rather than `process.env`, so every
 * service that passes variables on (agents, verification, git) sees the same snapshot and a test can
 * provide its own environment without mutating the process. Empty variables count as unset.
 */
import { ConfigProvider, Effect } from "effect"

/** Every variable the current `ConfigProvider` knows, by its full name (`ANTHROPIC_API_KEY`, `PATH`, …). */
export const hostEnvironment: Effect.Effect<Readonly<Record<string, string>>> = Effect.gen(function* () {
  const provider = yield* ConfigProvider.ConfigProvider
  const out: Record<string, string> = {}
  // The env provider splits names on "_" into a trie; walk it and join the segments back.
  const visit = (path: ReadonlyArray<string>): Effect.Effect<void, ConfigProvider.SourceError> =>
    Effect.gen(function* () {
      const node = yield* provider.load(path)
      if (node === undefined) return
      if (node._tag === "Value") {
        if (path.length > 0) out[path.join("_")] = node.value
        return
      }
      if (node.value !== undefined && path.length > 0) out[path.join("_")] = node.value
      const keys = node._tag === "Record" ? [...node.keys] : Array.from({ length: node.length }, (_, i) => String(i))
      for (const key of keys) yield* visit([...path, key])
    })
  yield* visit([]).pipe(Effect.orElseSucceed(() => undefined))
  return out
})

/** A provider holding exactly `env` (for tests and for callers that captured an environment). */
export const environmentProvider = (env: Readonly<Record<string, string>>): ConfigProvider.ConfigProvider =>
  ConfigProvider.fromEnv({ env: { ...env } })
