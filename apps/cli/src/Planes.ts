/**
 * The only place where planes are wired together. Commands call `withPlanes(effect)`: it loads the
 * project named by the root flags (`--cwd`, `--config`) and provides every plane's services.
 */
import { IssueSource, Missions, Project, Specs } from "@spec-orch/contract"
import { Effect, Layer, Option } from "effect"
import { Root } from "./Root.js"

/** The contract plane's services over a loaded project. */
export const ContractPlane = Layer.mergeAll(IssueSource.layerFixtures, Specs.layer, Missions.layer)

/** Every plane, over the project. */
export const Planes = ContractPlane

/** Services a command may use once the project is loaded. */
export type PlaneServices = Layer.Success<typeof Planes> | Project

/** Runs `effect` with the project from the root flags and every plane provided. */
export const withPlanes = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const flags = yield* Root
    const project = Project.layer({ start: flags.cwd, configFile: Option.getOrUndefined(flags.config) })
    return yield* effect.pipe(Effect.provide(Planes.pipe(Layer.provideMerge(project))))
  })
