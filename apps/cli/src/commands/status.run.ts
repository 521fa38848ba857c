/**
 * The handler of `spec-orch status`, apart from `run`'s: it reads the run store only, so it loads
 * the state database and the run store (status.runs.ts), not the run engine or the other planes; and on
 * a project that never ran, not even those.
 */
import { Option } from "effect"
import { withRunStore } from "../RunState.js"
import { show } from "./status.view.js"

export const status = (input: { issue: Option.Option<string>; all: boolean; json: boolean }) => {
  const issue = Option.getOrUndefined(input.issue)
  return withRunStore(
    () => import("./status.runs.js").then((m) => m.runs({ issue, all: input.all, json: input.json })),
    show(input, issue, [], [])
  )
}
