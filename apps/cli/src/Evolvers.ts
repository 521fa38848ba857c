/**
 * The evolvers `evolution run` and the daemon's trigger run (docs/evolution.md): the verification
 * learning (from memory, when it is on), the compliance-rule evolver, the skills miner and the scoper-hint
 * evolver (from the evidence ledger and the runs' event logs). Each only proposes; one that fails is logged and the others
 * still run.
 */
import {
  type ComplianceEvolverOptions,
  Memory,
  type Proposal,
  proposeComplianceRules,
  proposeFromFailures,
  proposeScoperHints,
  proposeSkills,
  type ScoperHintOptions,
  type SkillsMinerOptions
} from "@spec-orch/evolution"
import { Cause, Effect, Option } from "effect"

export interface EvolverOptions {
  readonly minRuns?: number | undefined
  readonly compliance?: Partial<ComplianceEvolverOptions> | undefined
  readonly skills?: Partial<SkillsMinerOptions> | undefined
  readonly scoperHints?: Partial<ScoperHintOptions> | undefined
}

const orLogged =
  (what: string) =>
  <A, E, R>(effect: Effect.Effect<A, E, R>) =>
    effect.pipe(
      Effect.map((a): A | undefined => a),
      Effect.catchCause((c) =>
        Cause.hasInterruptsOnly(c)
          ? Effect.interrupt
          : Effect.as(Effect.logWarning(`evolution: the ${what} failed: ${Cause.pretty(c)}`), undefined)
      )
    )

/** Runs every evolver once, in turn; the verification learning only when `Memory` is provided (memory is on). */
export const runEvolvers = (options: EvolverOptions) =>
  Effect.gen(function* () {
    const memory = yield* Effect.serviceOption(Memory)
    const verification: ReadonlyArray<Proposal> = Option.isSome(memory)
      ? ((yield* proposeFromFailures(options.minRuns).pipe(
          Effect.provideService(Memory, memory.value),
          orLogged("verification-learning evolver")
        )) ?? [])
      : []
    const compliance = yield* proposeComplianceRules({
      ...(options.minRuns !== undefined ? { minRuns: options.minRuns } : {}),
      ...options.compliance
    }).pipe(orLogged("compliance-rule evolver"))
    const skills = yield* proposeSkills(options.skills).pipe(orLogged("skills miner"))
    const scoperHints = yield* proposeScoperHints(options.scoperHints).pipe(orLogged("scoper-hint evolver"))
    return { verification, compliance, skills, scoperHints }
  }).pipe(Effect.withSpan("Evolvers.run"))
