import { assert, describe, it } from "@effect/vitest"
import { Missions } from "@spec-orch/contract"
import { Effect, Layer } from "effect"
import { OFFLINE_NOTE, Planner, PlannerModel, PlannerModelProblem, Plans } from "../src/index.js"
import { promptText, scriptedModel } from "./utils/model.js"
import { shape } from "./utils/plans.js"
import { planeAt, put, read, tempProject } from "./utils/project.js"

const MISSION = "2026-03-parallel-waves"
const SPEC = [
  "# Add OAuth login",
  "",
  "## Intent",
  "",
  "Users sign in with GitHub.",
  "",
  "## Acceptance Criteria",
  "",
  "- Users log in with GitHub",
  "",
  "## Backend",
  "",
  "OAuth callback in `src/auth/`.",
  ""
].join("\n")

const modelAnswer = JSON.stringify({
  waves: [
    {
      wave_number: 0,
      description: "All of it",
      work_packets: [
        {
          packet_id: "oauth-backend",
          title: "OAuth callback",
          spec_section: "Backend",
          run_class: "feature",
          files_in_scope: ["src/auth/"],
          files_out_of_scope: [],
          depends_on: [],
          acceptance_criteria: ["Users log in with GitHub"],
          builder_prompt: "Add the OAuth callback."
        }
      ]
    }
  ]
})

describe("Planner.plan", () => {
  it.effect("plans offline when no planner model is configured, and says so", () =>
    Effect.gen(function* () {
      const dir = yield* tempProject
      const outcome = yield* Effect.gen(function* () {
        const view = yield* (yield* Missions).create({ title: "Add OAuth login", id: "oauth", spec: SPEC })
        assert.strictEqual(view.mission.id, "oauth")
        return yield* (yield* Planner).plan("oauth")
      }).pipe(Effect.provide(planeAt(dir)))
      assert.strictEqual(outcome.planner, "offline")
      assert.strictEqual(outcome.notes[0], OFFLINE_NOTE)
      assert.match(outcome.notes[1]!, /^mission oauth is not approved yet/)
      assert.strictEqual(outcome.file, "docs/specs/oauth/plan.json")
      assert.strictEqual(outcome.attempts, 0)
      assert.isUndefined(outcome.replan)
      assert.deepStrictEqual(outcome.problems, [])
      const json = JSON.parse(read(dir, "docs/specs/oauth/plan.json"))
      assert.strictEqual(json.planner, "offline")
      assert.deepStrictEqual(json.waves[0].work_packets[0].files_in_scope, ["src/auth/"])
      assert.deepStrictEqual(json.waves[0].work_packets[0].verification_commands, {
        lint: ["npm", "run", "lint"],
        test: "npm test --silent"
      })
      // The Backend section shares no words with the criterion, so a final QA packet owns it.
      assert.deepStrictEqual(shape(outcome.plan), [["backend"], ["acceptance-qa"]])
      assert.deepStrictEqual(json.waves[1].work_packets[0].acceptance_criteria, ["Users log in with GitHub"])
    })
  )

  it.effect("re-plans an existing mission keeping its finished packets", () =>
    Effect.gen(function* () {
      const dir = yield* tempProject
      const outcome = yield* Planner.use((p) => p.plan(MISSION, { finished: ["models-scaffold"] })).pipe(
        Effect.provide(planeAt(dir))
      )
      assert.deepStrictEqual(outcome.replan!.kept, ["models-scaffold"])
      assert.include(outcome.replan!.removed, "parallel-tests")
      assert.deepStrictEqual(shape(outcome.plan)[0], ["models-scaffold"])
      assert.include(read(dir, `docs/specs/${MISSION}/plan.json`), '"linear_issue_id": "SON-31"')
    })
  )

  it.effect("asks the planner model when one is provided, with the repository's files in the prompt", () =>
    Effect.gen(function* () {
      const dir = yield* tempProject
      const model = scriptedModel([modelAnswer])
      const layer = planeAt(dir).pipe(
        Layer.provide(PlannerModel.layer("chain:planner").pipe(Layer.provide(model.layer)))
      )
      const outcome = yield* Effect.gen(function* () {
        yield* (yield* Missions).create({ title: "Add OAuth login", id: "oauth", spec: SPEC })
        const planner = yield* Planner
        assert.isTrue(planner.hasModel)
        return yield* planner.plan("oauth")
      }).pipe(Effect.provide(layer))
      assert.strictEqual(outcome.planner, "chain:planner")
      assert.strictEqual(outcome.attempts, 1)
      assert.notInclude(outcome.notes, OFFLINE_NOTE)
      assert.deepStrictEqual(shape(outcome.plan), [["oauth-backend"]])
      const user = promptText(model.prompts[0]!)[1]!
      assert.include(user, "spec-orch.toml")
      assert.include(user, "docs/specs/2026-03-parallel-waves/spec.md")
      assert.include(user, "- test: npm test --silent")
      assert.include(user, "OAuth callback in `src/auth/`.")
    })
  )

  it.effect(
    "fails instead of planning offline when the configured model cannot be called, unless offline is asked for",
    () =>
      Effect.gen(function* () {
        const dir = yield* tempProject
        const layer = planeAt(dir).pipe(
          Layer.provide(
            PlannerModelProblem.layer("no usable model for [planner] (chain:main): local needs $KEY (unset or empty)")
          )
        )
        const error = yield* Planner.use((p) => p.plan(MISSION)).pipe(Effect.provide(layer), Effect.flip)
        assert.strictEqual(error._tag === "PlannerError" ? error.reason._tag : error._tag, "PlannerModelUnavailable")
        assert.include(error.message, "local needs $KEY (unset or empty)")
        assert.include(error.message, `spec-orch plan ${MISSION} --offline`)
        const offline = yield* Planner.use((p) => p.plan(MISSION, { offline: true })).pipe(Effect.provide(layer))
        assert.strictEqual(offline.planner, "offline")
      })
  )

  it.effect("refuses to replace a model-written plan with an offline one unless forced", () =>
    Effect.gen(function* () {
      const dir = yield* tempProject
      const model = scriptedModel([modelAnswer])
      const withModel = planeAt(dir).pipe(
        Layer.provide(PlannerModel.layer("chain:planner").pipe(Layer.provide(model.layer)))
      )
      yield* Effect.gen(function* () {
        yield* (yield* Missions).create({ title: "Add OAuth login", id: "oauth", spec: SPEC })
        yield* (yield* Planner).plan("oauth")
      }).pipe(Effect.provide(withModel))
      const before = read(dir, "docs/specs/oauth/plan.json")
      const error = yield* Planner.use((p) => p.plan("oauth", { offline: true })).pipe(
        Effect.provide(planeAt(dir)),
        Effect.flip
      )
      assert.strictEqual(error._tag === "PlannerError" ? error.reason._tag : error._tag, "PlanWouldDowngrade")
      assert.strictEqual(read(dir, "docs/specs/oauth/plan.json"), before)
      const forced = yield* Planner.use((p) => p.plan("oauth", { offline: true, force: true })).pipe(
        Effect.provide(planeAt(dir))
      )
      assert.include(
        forced.notes,
        "replaced the plan written by the planner model chain:planner with an offline plan (--force)"
      )
    })
  )

  it.effect("uses the offline planner on request even with a model", () =>
    Effect.gen(function* () {
      const dir = yield* tempProject
      const model = scriptedModel([])
      const layer = planeAt(dir).pipe(
        Layer.provide(PlannerModel.layer("chain:planner").pipe(Layer.provide(model.layer)))
      )
      const outcome = yield* Planner.use((p) => p.plan(MISSION, { offline: true })).pipe(Effect.provide(layer))
      assert.strictEqual(outcome.planner, "offline")
      assert.deepStrictEqual(outcome.notes, [])
      assert.strictEqual(model.prompts.length, 0)
      assert.strictEqual((yield* Plans.use((p) => p.read(MISSION)).pipe(Effect.provide(layer))).plan.planner, "offline")
    })
  )

  it.effect("replaces an unreadable plan.json and says nothing was kept from it", () =>
    Effect.gen(function* () {
      const dir = yield* tempProject
      put(dir, `docs/specs/${MISSION}/plan.json`, "{ not json")
      const outcome = yield* Planner.use((p) => p.plan(MISSION, { offline: true, finished: ["models-scaffold"] })).pipe(
        Effect.provide(planeAt(dir))
      )
      assert.deepStrictEqual(outcome.notes, [
        `the previous docs/specs/${MISSION}/plan.json could not be read (1 problem), so nothing was kept from it; it is replaced`
      ])
      assert.strictEqual(JSON.parse(read(dir, `docs/specs/${MISSION}/plan.json`)).planner, "offline")
    })
  )

  it.effect("fails with the missions' own error for an unknown mission", () =>
    Effect.gen(function* () {
      const dir = yield* tempProject
      const error = yield* Effect.flip(Planner.use((p) => p.plan("nope")).pipe(Effect.provide(planeAt(dir))))
      assert.strictEqual(error._tag, "FileMissing")
    })
  )
})
