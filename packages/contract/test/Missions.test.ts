import { NodeServices } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { formatProblem, Missions, Project } from "../src/index.js"

const run = <A, E>(root: string, f: (m: Missions["Service"]) => Effect.Effect<A, E>) =>
  Missions.use(f).pipe(
    Effect.provide(Missions.layer.pipe(Layer.provide(Project.layerFrom(root)), Layer.provide(NodeServices.layer)))
  )

describe("Missions", () => {
  it.effect("creates docs/specs/<id>/{spec.md, mission.json} with an id from the title", () =>
    Effect.gen(function* () {
      const root = mkdtempSync(join(tmpdir(), "missions-"))
      const v = yield* run(root, (m) => m.create({ title: "Add OAuth login!" }))
      assert.match(v.mission.id, /^\d{4}-\d{2}-add-oauth-login$/)
      assert.strictEqual(v.mission.status, "drafting")
      const file = JSON.parse(readFileSync(join(root, "docs/specs", v.mission.id, "mission.json"), "utf8"))
      assert.strictEqual(file.mission_id, v.mission.id)
      assert.strictEqual(file.spec_path, `docs/specs/${v.mission.id}/spec.md`)
      assert.match(readFileSync(join(root, file.spec_path), "utf8"), /^# Add OAuth login!\n\n## Intent/)
      const dup = yield* Effect.flip(run(root, (m) => m.create({ title: "again", id: v.mission.id })))
      assert.strictEqual(dup._tag, "MissionExists")
    })
  )

  it.effect("approval freezes the spec hash and an edit afterwards is detected", () =>
    Effect.gen(function* () {
      const root = mkdtempSync(join(tmpdir(), "missions-"))
      const v = yield* run(root, (m) => m.create({ title: "Parallel waves", id: "waves" }))
      const approved = yield* run(root, (m) => m.approve("waves", "ada"))
      assert.strictEqual(approved.mission.status, "approved")
      assert.strictEqual(approved.specState, "approved")
      appendFileSync(join(root, v.mission.specPath), "\n- one more criterion\n")
      const after = yield* run(root, (m) => m.get("waves"))
      assert.strictEqual(after.specState, "changed-since-approval")
    })
  )

  it.effect("refuses transitions the lifecycle does not allow", () =>
    Effect.gen(function* () {
      const root = mkdtempSync(join(tmpdir(), "missions-"))
      yield* run(root, (m) => m.create({ title: "x", id: "x" }))
      const e = yield* Effect.flip(run(root, (m) => m.setStatus("x", "completed")))
      assert.strictEqual(e._tag, "MissionTransitionRefused")
      assert.strictEqual(e.message, "mission x is drafting; it cannot become completed")
      yield* run(root, (m) => m.approve("x", "ada"))
      const started = yield* run(root, (m) => m.setStatus("x", "in_progress"))
      assert.strictEqual(started.mission.status, "in_progress")
    })
  )

  it.effect("loads the original's mission.json unchanged, mapping legacy statuses", () =>
    Effect.gen(function* () {
      const root = mkdtempSync(join(tmpdir(), "missions-"))
      const dir = join(root, "docs/specs/legacy")
      mkdirSync(dir, { recursive: true })
      writeFileSync(join(dir, "spec.md"), "# Legacy\n")
      writeFileSync(
        join(dir, "mission.json"),
        JSON.stringify(
          {
            mission_id: "legacy",
            title: "Legacy",
            status: "executing",
            spec_path: "docs/specs/legacy/spec.md",
            acceptance_criteria: ["a"],
            constraints: [],
            interface_contracts: [],
            created_at: "2026-03-01T00:00:00Z",
            approved_at: "2026-03-02T00:00:00Z",
            completed_at: null
          },
          null,
          2
        )
      )
      const v = yield* run(root, (m) => m.get("legacy"))
      assert.strictEqual(v.mission.status, "in_progress")
      assert.strictEqual(v.specState, "approved")
    })
  )

  it.effect("lists good missions and reports a broken mission.json with file, line and key", () =>
    Effect.gen(function* () {
      const root = mkdtempSync(join(tmpdir(), "missions-"))
      yield* run(root, (m) => m.create({ title: "good", id: "good" }))
      mkdirSync(join(root, "docs/specs/bad"), { recursive: true })
      writeFileSync(
        join(root, "docs/specs/bad/mission.json"),
        '{\n  "mission_id": "bad",\n  "title": "Bad",\n  "status": "finished",\n  "spec_path": "x",\n  "created_at": "now"\n}\n'
      )
      const { missions, problems } = yield* run(root, (m) => m.list)
      assert.deepStrictEqual(
        missions.map((v) => v.mission.id),
        ["good"]
      )
      assert.match(
        formatProblem(problems[0]!),
        /^docs\/specs\/bad\/mission\.json:4:3: error: status: expected one of "drafting", .*found the string "finished"$/
      )
    })
  )
})
