import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { cli } from "./cli.js"

const example = join(import.meta.dirname, "../../../examples/hello-node")
const SPEC = [
  "# Greetings in two languages",
  "",
  "## Intent",
  "",
  "Greet users in English and French.",
  "",
  "## Acceptance Criteria",
  "",
  "- `greet` answers in French when asked",
  "",
  "## French greeting",
  "",
  "Add a French greeting to `src/greet.js` and its test in `test/greet.test.js`.",
  "",
  "## Documentation",
  "",
  "Document both greetings in `README.md`.",
  ""
].join("\n")

const withPlannedMission = () =>
  Effect.gen(function* () {
    const dir = mkdtempSync(join(tmpdir(), "cli-plan-to-spec-"))
    cpSync(example, dir, { recursive: true })
    assert.strictEqual((yield* cli("--cwd", dir, "mission", "create", "Greetings", "--id", "greetings")).code, 0)
    writeFileSync(join(dir, "docs/specs/greetings/spec.md"), SPEC)
    assert.strictEqual((yield* cli("--cwd", dir, "plan", "greetings", "--offline")).code, 0)
    // The plan knows more than the spec: a criterion of its own on the documentation packet.
    const planFile = join(dir, "docs/specs/greetings/plan.json")
    const plan = JSON.parse(readFileSync(planFile, "utf8"))
    plan.waves[0].work_packets[1].acceptance_criteria.push(
      "The README documents both languages",
      "## Not a heading\nsecond line"
    )
    writeFileSync(planFile, JSON.stringify(plan, null, 2))
    return dir
  })

describe("spec-orch plan-to-spec", () => {
  it.effect("adds the plan's criteria and lists its packets in spec.md; running it again changes nothing", () =>
    Effect.gen(function* () {
      const dir = yield* withPlannedMission()
      const specFile = join(dir, "docs/specs/greetings/spec.md")
      const r = yield* cli("--cwd", dir, "plan-to-spec", "greetings")
      assert.strictEqual(r.code, 0, r.stderr)
      assert.include(
        r.stdout,
        "Updated docs/specs/greetings/spec.md from docs/specs/greetings/plan.json: 3 acceptance criteria added, 2 packets listed."
      )
      assert.include(
        r.stdout,
        '  + The "Documentation" part of the spec is implemented as written\n  + The README documents both languages\n  + Not a heading second line'
      )
      const spec = readFileSync(specFile, "utf8")
      assert.include(
        spec,
        [
          "## Acceptance Criteria",
          "",
          "- `greet` answers in French when asked",
          '- The "Documentation" part of the spec is implemented as written',
          "- The README documents both languages",
          "- Not a heading second line",
          "",
          "## French greeting"
        ].join("\n")
      )
      assert.include(
        spec,
        "### french-greeting: French greeting\n\n- wave 0, feature\n- files: `src/greet.js`, `test/greet.test.js`\n- criterion: `greet` answers in French when asked"
      )
      assert.include(spec, "### documentation: Documentation\n\n- wave 0, docs\n- files: `README.md`")
      assert.isTrue(spec.endsWith("- criterion: Not a heading second line\n"))

      const again = yield* cli("--cwd", dir, "plan-to-spec", "greetings")
      assert.strictEqual(again.code, 0, again.stderr)
      assert.strictEqual(
        again.stdout,
        "docs/specs/greetings/spec.md is up to date with docs/specs/greetings/plan.json."
      )
      assert.strictEqual(readFileSync(specFile, "utf8"), spec)

      // The packet list describes the plan: planning the refreshed spec makes no packet of it (the criteria
      // no section matches go to the offline planner's acceptance packet, as for any spec).
      const replanned = yield* cli("--cwd", dir, "plan", "greetings", "--offline", "--json")
      assert.strictEqual(replanned.code, 0, replanned.stderr)
      assert.deepStrictEqual(
        JSON.parse(replanned.stdout).plan.waves.flatMap((w: any) => w.work_packets.map((p: any) => p.packet_id)),
        ["french-greeting", "documentation", "acceptance-qa"]
      )
    })
  )

  it.effect("says an approved mission must be approved again, and --dry-run writes nothing", () =>
    Effect.gen(function* () {
      const dir = yield* withPlannedMission()
      const specFile = join(dir, "docs/specs/greetings/spec.md")
      assert.strictEqual((yield* cli("--cwd", dir, "mission", "approve", "greetings")).code, 0)
      const dry = yield* cli("--cwd", dir, "plan-to-spec", "greetings", "--dry-run")
      assert.strictEqual(dry.code, 0, dry.stderr)
      assert.include(dry.stdout, "Dry run: nothing written. docs/specs/greetings/spec.md would be:")
      assert.include(dry.stdout, "## Work Packets")
      assert.strictEqual(readFileSync(specFile, "utf8"), SPEC)
      const r = yield* cli("--cwd", dir, "plan-to-spec", "greetings")
      assert.include(
        r.stdout,
        "The mission was approved: its spec changed, so approve it again with `spec-orch mission approve greetings`."
      )
    })
  )

  it.effect("fails naming the missing plan", () =>
    Effect.gen(function* () {
      const dir = mkdtempSync(join(tmpdir(), "cli-plan-to-spec-"))
      cpSync(example, dir, { recursive: true })
      assert.strictEqual((yield* cli("--cwd", dir, "mission", "create", "Greetings", "--id", "greetings")).code, 0)
      const r = yield* cli("--cwd", dir, "plan-to-spec", "greetings")
      assert.strictEqual(r.code, 1)
      assert.include(r.stderr, "docs/specs/greetings/plan.json")
    })
  )
})
