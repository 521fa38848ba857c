/**
 * What `spec-orch status` reads from a project that has run: its runs from the run store, and which of
 * the running ones lost their process. Loaded only when there is run state (RunState.ts), so a project that
 * never ran does not load the run store or the state database.
 */
import { ownerAlive, ProcessToken } from "@spec-orch/control/EngineLock"
import { RunStore } from "@spec-orch/control/RunStore"
import { Effect } from "effect"
import { show } from "./status.view.js"

/** The runs of `issue` (default: the latest of every issue; `all`: every attempt), shown. */
export const runs = (input: { readonly issue: string | undefined; readonly all: boolean; readonly json: boolean }) =>
  Effect.gen(function* () {
    const store = yield* RunStore
    const me = yield* ProcessToken
    const { issue } = input
    const records = yield* store.list({ ...(issue !== undefined ? { issueId: issue } : {}), limit: 500 })
    const shown =
      input.all || issue !== undefined
        ? records
        : records.filter((r, i) => records.findIndex((x) => x.issueId === r.issueId) === i)
    const live = yield* Effect.forEach(shown, (r) =>
      Effect.map(store.owner(r.runId), (o) => r.status === "running" && !ownerAlive(o, me.host))
    )
    yield* show(input, issue, shown, live)
  })
