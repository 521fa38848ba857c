/**
 * The project's gate policy: the file named by `[gate] policy` in spec-orch.toml (default
 * `gate.policy.yaml`), or the built-in policy when that default file does not exist. A policy file
 * named explicitly (a non-default `[gate] policy`, or `--policy`) must exist: a typo never
 * silently falls back to the built-in policy.
 */
import { FileMissing, type InvalidFile, Project } from "@spec-orch/contract"
import { Context, Effect, FileSystem, Layer, Path } from "effect"
import { ConditionRegistry } from "./Conditions.js"
import { defaultGatePolicy, type GatePolicy, loadGatePolicy } from "./GatePolicy.js"

/** Why a policy could not be used: its file is missing or invalid. */
export type PolicyUnavailable = InvalidFile | FileMissing

const DEFAULT_POLICY_FILE = "gate.policy.yaml"

/** Loads gate policies for the project, with the condition registry in `ConditionRegistry.Current`. */
export class GatePolicies extends Context.Service<
  GatePolicies,
  {
    /** Absolute path of the configured policy file (it may not exist). */
    readonly configuredFile: string
    /** `[gate] profile`, or `null` for the policy as written. */
    readonly configuredProfile: string | null
    /** The project's policy (read once, then cached). */
    readonly current: Effect.Effect<GatePolicy, PolicyUnavailable>
    /** Loads the policy file at `file` (absolute, or relative to the project root); it must exist. */
    readonly load: (file: string) => Effect.Effect<GatePolicy, PolicyUnavailable>
    /** The conditions policies may name. */
    readonly registry: ConditionRegistry
  }
>()("@spec-orch/evidence/GatePolicies") {
  static readonly layer: Layer.Layer<GatePolicies, never, Project | FileSystem.FileSystem | Path.Path> = Layer.effect(
    GatePolicies,
    Effect.gen(function* () {
      const project = yield* Project
      const fs = yield* FileSystem.FileSystem
      const path = yield* Path.Path
      const registry = yield* ConditionRegistry.Current
      const configured = project.config.gate.policy
      const configuredFile = project.resolve(configured)
      // Named relative to the project root (stable in verdicts and the ledger), else as given.
      const shown = (file: string) => {
        const rel = path.relative(project.root, file)
        return rel === "" || rel.startsWith("..") || path.isAbsolute(rel) ? file : rel
      }

      const load = Effect.fn("GatePolicies.load")(function* (file: string) {
        const absolute = path.isAbsolute(file) ? file : project.resolve(file)
        const exists = yield* fs.exists(absolute).pipe(Effect.orElseSucceed(() => false))
        if (!exists)
          return yield* new FileMissing({
            file: shown(absolute),
            what: "gate policy file",
            hint: "check the path, or remove it to use the built-in policy"
          })
        const text = yield* fs
          .readFileString(absolute)
          .pipe(
            Effect.mapError(() => new FileMissing({ file: shown(absolute), what: "gate policy file (unreadable)" }))
          )
        return yield* Effect.fromResult(loadGatePolicy(text, shown(absolute), registry))
      })

      const current = yield* Effect.cached(
        Effect.gen(function* () {
          const exists = yield* fs.exists(configuredFile).pipe(Effect.orElseSucceed(() => false))
          if (!exists && configured === DEFAULT_POLICY_FILE) return defaultGatePolicy(registry)
          return yield* load(configuredFile)
        })
      )

      return GatePolicies.of({
        configuredFile,
        configuredProfile: project.config.gate.profile ?? null,
        current,
        load,
        registry
      })
    })
  )
}
