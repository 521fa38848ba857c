import { assert, describe, it } from "@effect/vitest"
import { formatProblem, makeMissionId, Plan, planToFile } from "@spec-orch/contract"
import { Effect } from "effect"
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { KEPT_WAVE_DESCRIPTION, planNeedsApproval, planOffline, Plans, replanKeepingFinished } from "../src/index.js"
import { packet, plan, shape } from "./utils/plans.js"
import { fixture, planeAt, put, read, tempProject } from "./utils/project.js"

const MISSION = "2026-03-parallel-waves"
const PLAN = `docs/specs/${MISSION}/plan.json`

/** Runs `f` with the Plans service over a fresh copy of the fixture project. */
const withPlans = <A, E>(f: (plans: Plans["Service"], dir: string) => Effect.Effect<A, E, Plans>) =>
  Effect.gen(function* () {
    const dir = yield* tempProject
    return yield* Effect.gen(function* () {
      return yield* f(yield* Plans, dir)
    }).pipe(Effect.provide(planeAt(dir)))
  })

/** Puts a bad plan file in place for mission `m-bad` and returns the error lines. */
const badPlan = (name: string) =>
  withPlans((plans, dir) =>
    Effect.gen(function* () {
      put(dir, "docs/specs/m-bad/plan.json", readFileSync(fixture(`bad-plans/${name}`), "utf8"))
      const error = yield* Effect.flip(plans.read("m-bad"))
      assert.strictEqual(error._tag, "InvalidFile")
      return error._tag === "InvalidFile" ? error.problems.filter((p) => p.severity === "error").map(formatProblem) : []
    })
  )

describe("Plans.read", () => {
  it.effect("loads the original's plan.json unchanged", () =>
    withPlans((plans) =>
      Effect.gen(function* () {
        const { plan, file, warnings } = yield* plans.read(MISSION)
        assert.strictEqual(file, PLAN)
        assert.deepStrictEqual(warnings, [])
        assert.strictEqual(plan.id, "plan-5e1f00aa")
        assert.strictEqual(plan.status, "executing")
        assert.deepStrictEqual(shape(plan), [
          ["models-scaffold", "protocols-scaffold"],
          ["wave-executor", "structured-logging"],
          ["parallel-tests"]
        ])
        const [models, protocols] = plan.waves[0]!.packets
        assert.strictEqual(models!.trackerIssueId, "SON-31")
        assert.isUndefined(protocols!.trackerIssueId)
        assert.deepStrictEqual(
          models!.verification.map((s) => [s.name, s.command]),
          [["import_smoke", ["{python}", "-c", "import orch.models"]]]
        )
        const qa = plan.waves[2]!.packets[0]!
        assert.deepStrictEqual(
          qa.verification.map((s) => [s.name, s.command, s.timeoutSeconds]),
          [["unit", ["pytest", "-q"], 600]]
        )
        assert.strictEqual(qa.runClass, "qa")
      })
    )
  )

  it.effect("writes a plan back in the same format, byte for byte as JSON", () =>
    withPlans((plans, dir) =>
      Effect.gen(function* () {
        const original = read(dir, PLAN)
        const { plan } = yield* plans.read(MISSION)
        const file = yield* plans.write(plan)
        assert.strictEqual(file, PLAN)
        assert.strictEqual(read(dir, PLAN), original)
      })
    )
  )

  it.effect("writes our own fields, planner and created_at, next to the original's", () =>
    withPlans((plans, dir) =>
      Effect.gen(function* () {
        const plan = planOffline({
          missionId: makeMissionId(MISSION),
          specText: read(dir, `docs/specs/${MISSION}/spec.md`),
          specPath: "spec.md",
          verification: [],
          createdAt: "2026-03-03T00:00:00.000Z"
        })
        yield* plans.write(plan)
        const json = JSON.parse(read(dir, PLAN))
        assert.deepStrictEqual(Object.keys(json), ["plan_id", "mission_id", "status", "planner", "created_at", "waves"])
        assert.deepStrictEqual(Object.keys(json.waves[0].work_packets[0]), [
          "packet_id",
          "title",
          "spec_section",
          "run_class",
          "files_in_scope",
          "files_out_of_scope",
          "depends_on",
          "acceptance_criteria",
          "verification_commands",
          "builder_prompt",
          "linear_issue_id"
        ])
        assert.deepStrictEqual((yield* plans.read(MISSION)).plan, plan)
        assert.deepStrictEqual(json, planToFile(plan))
      })
    )
  )

  it.effect("names the file, line and key of every mistyped field", () =>
    Effect.gen(function* () {
      const errors = yield* badPlan("types.json")
      assert.deepStrictEqual(errors, [
        'docs/specs/m-bad/plan.json:6:7: error: waves.0.wave_number: expected a number, found the string "1"',
        "docs/specs/m-bad/plan.json:9:9: error: waves.0.work_packets.0.title: is required (a string)",
        'docs/specs/m-bad/plan.json:11:11: error: waves.0.work_packets.0.run_class: expected one of "feature", "bug", "refactor", "spike", "qa", "docs", "hotfix", found the string "chore"',
        'docs/specs/m-bad/plan.json:12:11: error: waves.0.work_packets.0.depends_on: expected a list, found the string "b"'
      ])
    })
  )

  it.effect("points at the line of invalid JSON", () =>
    Effect.gen(function* () {
      const [error] = yield* badPlan("syntax.json")
      assert.match(error!, /^docs\/specs\/m-bad\/plan\.json:7:\d+: error: not valid JSON/)
    })
  )

  it.effect("refuses a plan that names another mission", () =>
    withPlans((plans, dir) =>
      Effect.gen(function* () {
        put(dir, "docs/specs/other/plan.json", read(dir, PLAN))
        const error = yield* Effect.flip(plans.read("other"))
        assert.strictEqual(
          error.message,
          [
            "docs/specs/other/plan.json has 1 problem:",
            `  docs/specs/other/plan.json:3:3: error: mission_id: is "${MISSION}" but the plan is in the folder of mission other (set mission_id to "other")`
          ].join("\n")
        )
      })
    )
  )

  it.effect("says how to make a plan when there is none", () =>
    withPlans((plans) =>
      Effect.gen(function* () {
        const error = yield* Effect.flip(plans.read("nothing-here"))
        assert.strictEqual(
          error.message,
          "plan of mission nothing-here not found: docs/specs/nothing-here/plan.json (run `spec-orch plan nothing-here` to write one)"
        )
        assert.isUndefined(yield* plans.find("nothing-here"))
      })
    )
  )
})

describe("Plans.validate", () => {
  it.effect("finds nothing wrong with the fixture plan, criteria taken from spec.md", () =>
    withPlans((plans) =>
      Effect.gen(function* () {
        const check = yield* plans.validate(MISSION)
        assert.deepStrictEqual(check.problems, [])
      })
    )
  )

  it.effect("names file, line and key for each broken rule, with did-you-mean hints", () =>
    withPlans((plans, dir) =>
      Effect.gen(function* () {
        put(dir, "docs/specs/m-bad/plan.json", readFileSync(fixture("bad-plans/rules.json"), "utf8"))
        const check = yield* plans.validate("m-bad")
        assert.deepStrictEqual(check.problems.map(formatProblem), [
          'docs/specs/m-bad/plan.json:19:11: warning: waves.0.work_packets.1.depend_on: unknown key, ignored (did you mean "depends_on"?)',
          'docs/specs/m-bad/plan.json:25:26: error: waves.0.work_packets.2.depends_on.0: packet "parser" depends on "api-rotues", which no packet of this plan has as its id (did you mean "api-routes"?)',
          'docs/specs/m-bad/plan.json:25:40: error: waves.0.work_packets.2.depends_on.1: packet "parser" (wave 0) depends on "lexer", which is in the same wave (a dependency must be in an earlier wave; `spec-orch plan` moves "parser" after it)',
          'docs/specs/m-bad/plan.json:31:26: error: waves.0.work_packets.3.depends_on.0: packet "lexer" (wave 0) depends on "parser", which is in the same wave (a dependency must be in an earlier wave; `spec-orch plan` moves "lexer" after it)',
          'docs/specs/m-bad/plan.json:25:11: error: waves.0.work_packets.2.depends_on: dependency cycle: parser → lexer → parser (each arrow reads "depends on"; remove one of these dependencies)',
          'docs/specs/m-bad/plan.json:18:11: error: waves.0.work_packets.1.files_in_scope: packets "api-routes" and "api-users" in wave 0 may change the same files: "src/api/" overlaps "src/api/users.ts" (move one of them to a later wave (`spec-orch plan` does), or make their files_in_scope disjoint)'
        ])
      })
    )
  )
})

describe("Plans.replan", () => {
  it.effect("keeps finished packets exactly, replaces the rest with the fresh plan", () =>
    withPlans((plans, dir) =>
      Effect.gen(function* () {
        const before = (yield* plans.read(MISSION)).plan
        const fresh = planOffline({
          missionId: makeMissionId(MISSION),
          specText: read(dir, `docs/specs/${MISSION}/spec.md`),
          specPath: "spec.md",
          verification: [],
          createdAt: "2026-03-04T00:00:00.000Z"
        })
        const result = yield* plans.replan(MISSION, fresh, ["models-scaffold", "wave-executor", "no-such-packet"])
        assert.deepStrictEqual(result.kept, ["models-scaffold", "wave-executor"])
        assert.deepStrictEqual(result.removed, ["protocols-scaffold", "parallel-tests"])
        assert.deepStrictEqual(result.added, ["interface-contracts", "documentation"])
        assert.deepStrictEqual(result.unknownFinished, ["no-such-packet"])
        const after = (yield* plans.read(MISSION)).plan
        assert.strictEqual(after.status, "executing")
        assert.deepStrictEqual(shape(after), [
          ["models-scaffold"],
          ["interface-contracts"],
          ["wave-executor", "structured-logging", "documentation"]
        ])
        assert.strictEqual(after.waves[0]!.description, KEPT_WAVE_DESCRIPTION)
        const keptModels = after.waves[0]!.packets[0]!
        assert.deepStrictEqual(keptModels, before.waves[0]!.packets[0]!)
        const keptExecutor = after.waves[2]!.packets[0]!
        assert.strictEqual(keptExecutor.builderPrompt, before.waves[1]!.packets[0]!.builderPrompt)
        assert.deepStrictEqual([...keptExecutor.dependsOn], ["models-scaffold"])
        assert.deepStrictEqual(
          (yield* plans.validate(MISSION)).planProblems.filter((p) => p.severity === "error"),
          []
        )
      })
    )
  )
})

describe("plan approval", () => {
  it("asks for approval of a model-written plan only, until someone approved it; re-planning drops an approval", () => {
    const model = new Plan({ ...plan([packet("a")]), planner: "chain:main", status: "draft" })
    assert.include(planNeedsApproval(model), "`spec-orch plan approve m-test`")
    assert.isUndefined(
      planNeedsApproval(new Plan({ ...model, approvedBy: "Ada", approvedAt: "2026-01-01T00:00:00.000Z" }))
    )
    assert.isUndefined(planNeedsApproval(new Plan({ ...model, status: "approved" })))
    assert.isUndefined(planNeedsApproval(new Plan({ ...model, planner: "offline" })))
    assert.isUndefined(planNeedsApproval(new Plan({ ...model, planner: "" })))
    const approved = new Plan({ ...model, status: "approved", approvedBy: "Ada" })
    const replanned = replanKeepingFinished(approved, model, []).plan
    assert.strictEqual(replanned.status, "draft")
    assert.isUndefined(replanned.approvedBy)
    assert.isDefined(planNeedsApproval(replanned))
  })
})

describe("Plans.validate and symbolic links", () => {
  it.effect(
    "refuses a files_in_scope entry that leads out of the repository through a link, naming packet, path and link",
    () =>
      withPlans((plans, dir) =>
        Effect.gen(function* () {
          const outside = mkdtempSync(join(tmpdir(), "spec-orch-outside-"))
          symlinkSync(outside, join(dir, "vendor"))
          mkdirSync(join(dir, "lib"), { recursive: true })
          symlinkSync(join(dir, "lib"), join(dir, "lib-link"))
          const file = {
            plan_id: "p",
            mission_id: "m-link",
            waves: [
              {
                wave_number: 0,
                description: "All",
                work_packets: [
                  { packet_id: "a", title: "A", files_in_scope: ["vendor/secrets.txt"], depends_on: [] },
                  { packet_id: "b", title: "B", files_in_scope: ["lib-link/x.ts", "vendor/**/*.ts"], depends_on: [] }
                ]
              }
            ]
          }
          put(dir, "docs/specs/m-link/plan.json", JSON.stringify(file, null, 2))
          const check = yield* plans.validate("m-link")
          const escapes = check.planProblems.filter((p) => p.code === "path-outside-repository")
          assert.deepStrictEqual(
            escapes.map((p) => [p.key, p.message.replace(/\(to .*\)$/, "(to …)")]),
            [
              [
                "waves.0.work_packets.0.files_in_scope.0",
                `packet "a" lists "vendor/secrets.txt" in files_in_scope, which leads outside the repository through the symbolic link "vendor" (to …)`
              ],
              [
                "waves.0.work_packets.1.files_in_scope.1",
                `packet "b" lists "vendor/**/*.ts" in files_in_scope, which leads outside the repository through the symbolic link "vendor" (to …)`
              ]
            ]
          )
        })
      )
  )
})
