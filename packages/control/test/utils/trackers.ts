/** Test wiring for tracker tests: a project with a given config, an environment, and the tracker layers (and the Redactor) over them. */
import { NodeServices } from "@effect/platform-node"
import { ConfigFile, Project } from "@spec-orch/contract"
import { Redactor } from "@spec-orch/harness"
import { ConfigProvider, Layer } from "effect"
// Modules are imported directly (not through the package index) so these tests do not depend on the run/ workflow compiling.
import { GitHub } from "../../src/trackers/GitHub.js"
import { Linear } from "../../src/trackers/Linear.js"
import { RequestBudget, type RequestBudgetOptions } from "../../src/trackers/RequestBudget.js"

/** A spec-orch.toml as a plain object (snake_case keys), parsed with the real schema. */
export type TomlLike = { readonly [section: string]: { readonly [key: string]: unknown } }

/** Project, environment, budget, both tracker clients and the Redactor over that environment; everything a tracker test needs. */
export const trackerWorld = (options: {
  readonly root: string
  readonly config: TomlLike
  readonly env: Readonly<Record<string, string>>
  readonly budget?: RequestBudgetOptions
}) => {
  const project = Project.layerFrom(options.root, ConfigFile.parse(options.config))
  const budget = options.budget !== undefined ? RequestBudget.layerWith(options.budget) : RequestBudget.layerUnlimited
  const clients = Layer.mergeAll(Linear.layer, GitHub.layer, Redactor.layer).pipe(Layer.provideMerge(budget))
  return clients.pipe(
    Layer.provideMerge(project),
    Layer.provideMerge(ConfigProvider.layer(ConfigProvider.fromEnvRecord({ ...options.env }))),
    Layer.provideMerge(NodeServices.layer)
  )
}
