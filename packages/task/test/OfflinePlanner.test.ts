import { assert, describe, it } from "@effect/vitest"
import { makeMissionId, VerificationStep } from "@spec-orch/contract"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { mentionedPaths, parseMissionSpec, planOffline, validatePlan } from "../src/index.js"
import { shape } from "./utils/plans.js"

const specPath = "docs/specs/2026-03-parallel-waves/spec.md"
const spec = readFileSync(join(import.meta.dirname, "fixtures/project", specPath), "utf8")
const verification = [new VerificationStep({ name: "test", command: ["npm", "test"] })]
const offline = (specText: string, acceptanceCriteria: Array<string> = []) =>
  planOffline({
    missionId: makeMissionId("2026-03-parallel-waves"),
    specText,
    specPath,
    acceptanceCriteria,
    verification,
    createdAt: "2026-03-03T00:00:00.000Z"
  })

describe("parseMissionSpec", () => {
  it("reads the title, criteria, constraints and every section; headings in code fences are text", () => {
    const parsed = parseMissionSpec(`${spec}\n## Notes\n\n\`\`\`md\n## Not a heading\n\`\`\`\n`)
    assert.strictEqual(parsed.title, "Run independent work packets in parallel")
    assert.deepStrictEqual(parsed.acceptanceCriteria, [
      "A wave's packets run concurrently, at most `max_concurrency` at a time",
      "A failed packet cancels the rest of its wave",
      "Every run writes structured JSON log lines with wave and packet ids"
    ])
    assert.deepStrictEqual(
      parsed.sections.map((s) => s.heading),
      [
        "Intent",
        "Acceptance Criteria",
        "Constraints",
        "Interface Contracts",
        "Wave executor",
        "Structured logging",
        "Documentation",
        "Notes"
      ]
    )
    assert.include(parsed.sections[7]!.body, "## Not a heading")
  })
})

describe("mentionedPaths", () => {
  it("keeps paths, directories and globs, and drops code and commands", () => {
    assert.deepStrictEqual(
      mentionedPaths(
        "`src/api/` `src/**/*.ts` `package.json` `Makefile` `Effect.gen` `npm test` `max_concurrency` `https://x.io/a` `@effect/ai` `./docs/a.md`"
      ),
      ["src/api/", "src/**/*.ts", "package.json", "Makefile", "docs/a.md"]
    )
  })
})

describe("planOffline", () => {
  it("makes a contract-freeze packet, one packet per work section, and waves from dependencies", () => {
    const plan = offline(spec)
    assert.deepStrictEqual(shape(plan), [
      ["interface-contracts"],
      ["wave-executor", "structured-logging", "documentation"]
    ])
    const [contracts, executor, logging, docs] = plan.waves.flatMap((w) => w.packets)
    assert.deepStrictEqual(contracts!.filesInScope, ["src/orch/models.py", "src/orch/protocols.py"])
    assert.deepStrictEqual(executor!.filesInScope, ["src/orch/wave_executor.py"])
    assert.deepStrictEqual([...executor!.dependsOn], ["interface-contracts"])
    assert.deepStrictEqual(executor!.filesOutOfScope, ["src/cli/legacy.py"])
    assert.strictEqual(docs!.runClass, "docs")
    assert.deepStrictEqual(
      executor!.verification.map((s) => s.name),
      ["test"]
    )
    assert.include(executor!.builderPrompt, "Run the packets of a wave concurrently")
    assert.include(executor!.builderPrompt, "Interface contracts (frozen by the interface-contracts packet")
    assert.strictEqual(plan.planner, "offline")
    assert.strictEqual(plan.status, "draft")
    assert.match(plan.id, /^plan-[0-9a-f]{8}$/)
    assert.include(logging!.acceptanceCriteria, "Every run writes structured JSON log lines with wave and packet ids")
  })

  it("covers every acceptance criterion, sending unclaimed ones to a final QA packet", () => {
    const plan = offline(spec, [
      "A wave's packets run concurrently",
      "Operators can read a summary of the run in the dashboard"
    ])
    const ids = plan.waves.flatMap((w) => w.packets.map((p) => p.id))
    assert.strictEqual(ids[ids.length - 1], "acceptance-qa")
    const qa = plan.waves[plan.waves.length - 1]!.packets[0]!
    assert.deepStrictEqual(qa.acceptanceCriteria, ["Operators can read a summary of the run in the dashboard"])
    assert.strictEqual(qa.runClass, "qa")
    assert.deepStrictEqual(
      validatePlan(plan, {
        acceptanceCriteria: [
          "A wave's packets run concurrently",
          "Operators can read a summary of the run in the dashboard"
        ]
      }),
      []
    )
  })

  it("is deterministic", () => {
    assert.deepStrictEqual(offline(spec), offline(spec))
  })

  it("plans a skeleton spec one packet per acceptance criterion, in order where files overlap", () => {
    const skeleton = [
      "# Login",
      "",
      "## Intent",
      "",
      "What this mission achieves and for whom.",
      "",
      "## Acceptance Criteria",
      "",
      "- Users log in with OAuth in `src/auth/oauth.ts`",
      "- Sessions expire after an hour (`src/auth/session.ts`)",
      "- The session cookie is set by `src/auth/`",
      "",
      "## Constraints",
      "",
      "- ",
      "",
      "## Interface Contracts",
      "",
      "- ",
      ""
    ].join("\n")
    const plan = offline(skeleton)
    assert.deepStrictEqual(shape(plan), [["ac-1", "ac-2"], ["ac-3"]])
    const last = plan.waves[1]!.packets[0]!
    assert.deepStrictEqual([...last.dependsOn], ["ac-1", "ac-2"])
    assert.strictEqual(last.title, "The session cookie is set by `src/auth/`")
    assert.deepStrictEqual(
      validatePlan(plan, { acceptanceCriteria: parseMissionSpec(skeleton).acceptanceCriteria }),
      []
    )
  })

  it("orders sections that name no files one after another (they may touch anything)", () => {
    const plan = offline("# X\n\n## First part\n\nDo one thing.\n\n## Second part\n\nDo another thing.\n")
    assert.deepStrictEqual(shape(plan), [["first-part"], ["second-part"]])
    assert.deepStrictEqual(validatePlan(plan), [])
  })

  it("splits a section with ### subsections into one packet each", () => {
    const plan = offline("# X\n\n## Scope\n\nShared context.\n\n### API\n\nIn `src/api/`.\n\n### Web\n\nIn `web/`.\n")
    assert.deepStrictEqual(shape(plan), [["api", "web"]])
    assert.include(plan.waves[0]!.packets[0]!.builderPrompt, "Shared context.")
    assert.strictEqual(plan.waves[0]!.packets[1]!.specSection, "Scope / Web")
  })
})
