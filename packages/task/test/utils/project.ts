/** A copy of the fixture project in a temporary directory, and the task plane over it (real files). */
import { NodeServices } from "@effect/platform-node"
import { Missions, Project } from "@spec-orch/contract"
import { Effect, Layer } from "effect"
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { TaskPlane } from "../../src/index.js"

export const fixture = (rel: string) => join(import.meta.dirname, "..", "fixtures", rel)

/** A temporary copy of test/fixtures/project, removed when the test's scope closes. */
export const tempProject = Effect.acquireRelease(
  Effect.sync(() => {
    const dir = mkdtempSync(join(tmpdir(), "spec-orch-task-"))
    cpSync(fixture("project"), dir, { recursive: true })
    return dir
  }),
  (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
)

/** Writes `text` at `rel` under `dir`, creating directories. */
export const put = (dir: string, rel: string, text: string) => {
  mkdirSync(dirname(join(dir, rel)), { recursive: true })
  writeFileSync(join(dir, rel), text)
}

/** Reads `rel` under `dir`. */
export const read = (dir: string, rel: string) => readFileSync(join(dir, rel), "utf8")

/** The task plane over the contract plane's missions and the project at `dir`, on Node's file system. */
export const planeAt = (dir: string) =>
  TaskPlane.pipe(
    Layer.provideMerge(Missions.layer),
    Layer.provideMerge(Project.layer({ start: dir })),
    Layer.provideMerge(NodeServices.layer)
  )
