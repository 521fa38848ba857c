/**
 * The daemon's evolution trigger (`[evolution] trigger_after_n_runs`, docs/evolution.md): after every N
 * finished runs the evolvers run once, in a fiber of their own, never on a run's path. The control plane
 * does not know the evolvers: the app gives the effect that runs them (`evolveAfterRuns`). The count is
 * kept in the daemon's store, so a daemon started with `--once` from cron counts across its starts.
 */
import { Project } from "@spec-orch/contract"
import { Cause, Context, Effect, Fiber, Layer, Semaphore } from "effect"
import { DaemonStore } from "./DaemonStore.js"

/** The daemon store's key of the finished runs counted since the evolvers last ran. */
export const EVOLUTION_COUNT_KEY = "evolution_runs_since"

/** Told by the daemon when one of its runs finished (whatever its verdict); returns at once. */
export class RunFinished extends Context.Service<
  RunFinished,
  {
    readonly finished: (runId: string) => Effect.Effect<void>
  }
>()("@spec-orch/control/RunFinished") {}

/**
 * Counts the daemon's finished runs and, every `[evolution] trigger_after_n_runs` of them, runs `evolve`
 * in the background (one at a time; a failure is logged, never the daemon's). Off when `[evolution]
 * enabled = false`. Closing the layer waits for evolvers already running, so `daemon start --once` keeps
 * what they propose.
 */
export const evolveAfterRuns = <E, R>(
  evolve: Effect.Effect<unknown, E, R>
): Layer.Layer<RunFinished, never, Project | DaemonStore | R> =>
  Layer.effect(
    RunFinished,
    Effect.gen(function* () {
      const project = yield* Project
      const store = yield* DaemonStore
      const context = yield* Effect.context<R>()
      const scope = yield* Effect.scope
      const { enabled, trigger_after_n_runs: every } = project.config.evolution
      let running: Fiber.Fiber<void> | undefined
      // Runs finish side by side: one count at a time, so none is lost.
      const lock = yield* Semaphore.make(1)
      yield* Effect.addFinalizer(() => (running === undefined ? Effect.void : Fiber.await(running)))
      const evolveOnce = evolve.pipe(
        Effect.provideContext(context),
        Effect.tap(() => Effect.logInfo(`evolution: the evolvers ran after ${every} finished run(s)`)),
        Effect.catchCause((c) => Effect.logWarning(`evolution: the evolvers failed: ${Cause.pretty(c)}`)),
        Effect.asVoid,
        Effect.withSpan("EvolutionTrigger.evolve")
      )
      const finished = (runId: string) =>
        Effect.gen(function* () {
          if (!enabled) return
          const count = Number((yield* store.getMeta(EVOLUTION_COUNT_KEY)) ?? "0") + 1
          if (count < every) return yield* store.setMeta(EVOLUTION_COUNT_KEY, String(count))
          if (running !== undefined && running.pollUnsafe() === undefined) {
            // Still running from the last trigger: count this run towards the next one.
            return yield* store.setMeta(EVOLUTION_COUNT_KEY, String(count))
          }
          yield* store.setMeta(EVOLUTION_COUNT_KEY, "0")
          yield* Effect.logDebug(`evolution: ${runId} is finished run ${count} of ${every}: running the evolvers`)
          running = yield* Effect.forkIn(evolveOnce, scope)
        }).pipe(lock.withPermits(1))
      return RunFinished.of({ finished })
    })
  )
