/**
 * This host's agent slots on a cluster (`[cluster] max_concurrent_per_host`, default `[daemon]
 * max_concurrent`): the daemon singleton caps the runs in flight across the cluster, but shards decide
 * where each runs, so one host can get more than it can hold. A run's agent turn takes a slot of the host
 * it runs on and waits for one when all are taken; the other stages (git, verification, publishing)
 * do not. A slot is given back when the turn ends, fails or is interrupted (a host stopping, a run moved).
 */
import type { SpecOrchConfig } from "@spec-orch/contract"
import { Context, Effect, Fiber, Layer, Option, Semaphore } from "effect"

export class HostSlots extends Context.Service<
  HostSlots,
  {
    /** Slots of this host. */
    readonly size: number
    /**
     * Runs `turn` in a slot of this host, waiting for one first; `whileWaiting` runs (and is interrupted
     * once a slot is free) only when it must wait, e.g. to keep saying so.
     */
    readonly withSlot: <A, E, R>(
      turn: Effect.Effect<A, E, R>,
      whileWaiting: (size: number) => Effect.Effect<void>
    ) => Effect.Effect<A, E, R>
  }
>()("@spec-orch/control/HostSlots") {
  /** `size` slots for this process's agent turns. */
  static readonly layerOf = (size: number): Layer.Layer<HostSlots> =>
    Layer.effect(
      HostSlots,
      Effect.gen(function* () {
        const semaphore = yield* Semaphore.make(size)
        return HostSlots.of({
          size,
          withSlot: (turn, whileWaiting) =>
            semaphore
              .withPermitsIfAvailable(1)(turn)
              .pipe(
                Effect.flatMap(
                  Option.match({
                    onSome: Effect.succeed,
                    onNone: () =>
                      Effect.flatMap(Effect.forkChild(whileWaiting(size)), (waiting) =>
                        semaphore.withPermits(1)(Effect.andThen(Fiber.interrupt(waiting), turn))
                      )
                  })
                )
              )
        })
      })
    )

  /** The slots `[cluster] max_concurrent_per_host` gives (default `[daemon] max_concurrent`). */
  static readonly layerFrom = (config: SpecOrchConfig): Layer.Layer<HostSlots> =>
    HostSlots.layerOf(config.cluster.max_concurrent_per_host ?? config.daemon.max_concurrent)
}
