import { NodeServices } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { appendFileSync, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Missions, Project, SpecImports } from "../src/index.js"

const FIXTURES = join(import.meta.dirname, "../../../support/test-kit/fixtures/specs")

/** A project root holding a copy of one fixture tree. */
const projectWith = (fixture: string) => {
  const root = mkdtempSync(join(tmpdir(), "spec-import-"))
  cpSync(join(FIXTURES, fixture), root, { recursive: true })
  return root
}
const layer = (root: string) =>
  Layer.mergeAll(SpecImports.layer, Missions.layer).pipe(
    Layer.provideMerge(Missions.layer),
    Layer.provideMerge(Project.layerFrom(root)),
    Layer.provideMerge(NodeServices.layer)
  )
const importSpec = (root: string, input: Parameters<SpecImports["Service"]["run"]>[0]) =>
  SpecImports.use((s) => s.run(input)).pipe(Effect.provide(layer(root)))
const approve = (root: string, id: string) =>
  Missions.use((m) => m.approve(id, "ada")).pipe(Effect.provide(layer(root)))
const missionFile = (root: string, id: string) =>
  JSON.parse(readFileSync(join(root, "docs/specs", id, "mission.json"), "utf8"))
const specsEntries = (root: string) =>
  existsSync(join(root, "docs/specs")) ? readdirSync(join(root, "docs/specs")) : []

describe("spec import", () => {
  it.effect(
    "detects a spec-kit feature from the repository root and writes an unapproved draft with traceable criteria",
    () =>
      Effect.gen(function* () {
        const root = projectWith("spec-kit")
        const r = yield* importSpec(root, { path: "." })
        assert.strictEqual(r.action, "created")
        assert.strictEqual(r.format, "spec-kit")
        assert.strictEqual(r.source, "specs/001-photo-albums")
        assert.strictEqual(r.view.mission.id, "001-photo-albums")
        assert.strictEqual(r.view.mission.status, "drafting")
        assert.strictEqual(r.view.specState, "unapproved")
        const file = missionFile(root, "001-photo-albums")
        assert.strictEqual(file.acceptance_criteria.length, 11)
        assert.strictEqual(
          file.acceptance_criteria[5],
          "FR-001: System MUST let a user create an album from any of their uploaded photos. (source: specs/001-photo-albums/spec.md:61)"
        )
        assert.deepStrictEqual(file.constraints, ["no new runtime dependencies", "share tokens are never logged"])
        const spec = readFileSync(join(root, "docs/specs/001-photo-albums/spec.md"), "utf8")
        assert.match(
          spec,
          /^# Photo Albums\n\n<!-- spec-orch import: format=spec-kit source=specs\/001-photo-albums sha256=[0-9a-f]{12} -->\n/
        )
        assert.include(
          spec,
          "## Tasks\n\n### Phase 1: Setup\n\n- T001 Create the albums module in `src/albums/index.ts` (specs/001-photo-albums/tasks.md:13)"
        )
        assert.deepStrictEqual(specsEntries(root), ["001-photo-albums"])
      })
  )

  it.effect("detects OpenSpec, Gherkin and EARS sources", () =>
    Effect.gen(function* () {
      const open = projectWith("openspec")
      const o = yield* importSpec(open, { path: "openspec" })
      assert.deepStrictEqual(
        [o.format, o.source, o.view.mission.id, o.criteria, o.taskGroups],
        ["openspec", "openspec/changes/add-two-factor-auth", "add-two-factor-auth", 6, 2]
      )
      const g = projectWith("gherkin")
      const gr = yield* importSpec(g, { path: "checkout.feature" })
      assert.deepStrictEqual([gr.format, gr.view.mission.id, gr.criteria], ["gherkin", "guest-checkout", 4])
      const e = projectWith("ears")
      const er = yield* importSpec(e, { path: ".", missionId: "thermostat" })
      assert.deepStrictEqual(
        [er.format, er.source, er.view.mission.id, er.criteria],
        ["ears", "thermostat-requirements.md", "thermostat", 6]
      )
      assert.strictEqual(
        missionFile(e, "thermostat").acceptance_criteria[1],
        "REQ-2: When the user saves a schedule entry, the thermostat shall apply it within 5 seconds. (source: thermostat-requirements.md:9)"
      )
    })
  )

  it.effect(
    "re-importing the same source changes nothing; a changed source updates the draft and says what changed",
    () =>
      Effect.gen(function* () {
        const root = projectWith("spec-kit")
        const first = yield* importSpec(root, { path: "specs/001-photo-albums" })
        const before = readFileSync(join(root, "docs/specs/001-photo-albums/spec.md"), "utf8")
        const again = yield* importSpec(root, { path: "specs/001-photo-albums/spec.md" })
        assert.strictEqual(again.action, "unchanged")
        assert.strictEqual(readFileSync(join(root, "docs/specs/001-photo-albums/spec.md"), "utf8"), before)
        assert.strictEqual(missionFile(root, "001-photo-albums").acceptance_criteria.length, 11)

        const specFile = join(root, "specs/001-photo-albums/spec.md")
        const text = readFileSync(specFile, "utf8")
          .replace("- **FR-005**: System MUST stop serving a revoked share link within one minute.\n", "")
          .replace("- **FR-006**", "- **FR-007**: System MUST show the album count on the profile page.\n- **FR-006**")
        writeFileSync(specFile, text)
        const updated = yield* importSpec(root, { path: "specs/001-photo-albums" })
        assert.strictEqual(updated.action, "updated")
        assert.deepStrictEqual(updated.changes.added, ["FR-007: System MUST show the album count on the profile page."])
        assert.deepStrictEqual(updated.changes.removed, [
          "FR-005: System MUST stop serving a revoked share link within one minute."
        ])
        const file = missionFile(root, "001-photo-albums")
        assert.strictEqual(file.acceptance_criteria.length, 11)
        assert.strictEqual(file.created_at, first.view.mission.createdAt)
        assert.deepStrictEqual(specsEntries(root), ["001-photo-albums"])
      })
  )

  it.effect("pairs a reworded criterion with its old text; a dry run writes nothing; --title names the mission", () =>
    Effect.gen(function* () {
      const root = projectWith("spec-kit")
      const specFile = join(root, "specs/001-photo-albums/spec.md")
      const dry = yield* importSpec(root, { path: "specs/001-photo-albums", dryRun: true, title: "Albums" })
      assert.deepStrictEqual([dry.action, dry.dryRun, dry.view.mission.title], ["created", true, "Albums"])
      assert.match(dry.specText, /^# Albums\n/)
      assert.deepStrictEqual(specsEntries(root), [])
      yield* importSpec(root, { path: "specs/001-photo-albums", title: "Albums" })
      writeFileSync(
        specFile,
        readFileSync(specFile, "utf8").replace("the order MUST persist.", "the order MUST persist across devices.")
      )
      const preview = yield* importSpec(root, { path: "specs/001-photo-albums", title: "Albums", dryRun: true })
      assert.deepStrictEqual(preview.changes.changed, [
        {
          from: "FR-003: Users MUST be able to reorder their albums, and the order MUST persist.",
          to: "FR-003: Users MUST be able to reorder their albums, and the order MUST persist across devices."
        }
      ])
      assert.deepStrictEqual([preview.changes.added, preview.changes.removed], [[], []])
      assert.notInclude(
        readFileSync(join(root, "docs/specs/001-photo-albums/spec.md"), "utf8"),
        "across devices",
        "a dry run writes nothing"
      )
      const updated = yield* importSpec(root, { path: "specs/001-photo-albums", title: "Albums" })
      assert.strictEqual(updated.action, "updated")
      assert.include(readFileSync(join(root, "docs/specs/001-photo-albums/spec.md"), "utf8"), "across devices")
    })
  )

  it.effect("refuses to overwrite a draft edited by hand after the import, unless forced", () =>
    Effect.gen(function* () {
      const root = projectWith("ears")
      yield* importSpec(root, { path: "thermostat-requirements.md" })
      const draft = join(root, "docs/specs/thermostat-schedules/spec.md")
      appendFileSync(draft, "\n## Rollout\n\nShip to the beta group first.\n")
      const e = yield* Effect.flip(importSpec(root, { path: "thermostat-requirements.md" }))
      assert.strictEqual(
        e.message,
        "mission thermostat-schedules: docs/specs/thermostat-schedules/spec.md was edited after it was imported; importing again would lose those edits (make the edits in the source and pass --force, or import under another id with --mission <id>)"
      )
      assert.include(readFileSync(draft, "utf8"), "## Rollout")
      const forced = yield* importSpec(root, { path: "thermostat-requirements.md", force: true })
      assert.strictEqual(forced.action, "updated")
      assert.deepStrictEqual(forced.changes.sections, ["Rollout"])
      assert.notInclude(readFileSync(draft, "utf8"), "## Rollout")
      assert.strictEqual((yield* importSpec(root, { path: "thermostat-requirements.md" })).action, "unchanged")
    })
  )

  it.effect("sweeps the hidden folder an interrupted import left, which mission list never shows", () =>
    Effect.gen(function* () {
      const root = projectWith("ears")
      yield* importSpec(root, { path: "thermostat-requirements.md" })
      cpSync(
        join(root, "docs/specs/thermostat-schedules"),
        join(root, "docs/specs/.import-thermostat-schedules-dead"),
        { recursive: true }
      )
      const listed = yield* Missions.use((m) => m.list).pipe(Effect.provide(layer(root)))
      assert.deepStrictEqual(
        listed.missions.map((v) => v.mission.id),
        ["thermostat-schedules"]
      )
      appendFileSync(
        join(root, "thermostat-requirements.md"),
        "\n## More\n\n- REQ-7: The thermostat shall show the next entry.\n"
      )
      const r = yield* importSpec(root, { path: "thermostat-requirements.md" })
      assert.strictEqual(r.action, "updated")
      assert.deepStrictEqual(specsEntries(root), ["thermostat-schedules"])
    })
  )

  it.effect(
    "an approved mission is not overwritten without --force; with it the draft is replaced and unapproved",
    () =>
      Effect.gen(function* () {
        const root = projectWith("gherkin")
        yield* importSpec(root, { path: "checkout.feature" })
        yield* approve(root, "guest-checkout")
        const same = yield* importSpec(root, { path: "checkout.feature" })
        assert.strictEqual(same.action, "unchanged")
        assert.strictEqual(same.view.mission.status, "approved")
        appendFileSync(
          join(root, "checkout.feature"),
          '\n  Scenario: Empty cart\n    Given an empty cart\n    When the guest opens checkout\n    Then they see "Your cart is empty"\n'
        )
        const refused = yield* Effect.flip(importSpec(root, { path: "checkout.feature" }))
        assert.strictEqual(refused._tag, "SpecImportRefused")
        assert.strictEqual(
          refused.message,
          "mission guest-checkout: it is approved and the source changed (1 criterion added) (pass --force to replace the draft and approve it again, or import under another id with --mission <id>)"
        )
        assert.strictEqual(missionFile(root, "guest-checkout").status, "approved")
        const forced = yield* importSpec(root, { path: "checkout.feature", force: true })
        assert.strictEqual(forced.action, "updated")
        assert.isTrue(forced.unapproved)
        assert.strictEqual(forced.view.mission.status, "drafting")
        assert.strictEqual(missionFile(root, "guest-checkout").approved_by, null)
        assert.match(forced.changes.added[0]!, / \/ Empty cart: Given an empty cart/)
      })
  )

  it.effect("a malformed source writes nothing and names the file and line", () =>
    Effect.gen(function* () {
      const root = projectWith("gherkin")
      writeFileSync(
        join(root, "checkout.feature"),
        readFileSync(join(root, "checkout.feature"), "utf8").replace(
          "    Then they see an order confirmation with an order number\n    And",
          "    And"
        )
      )
      const e = yield* Effect.flip(importSpec(root, { path: "checkout.feature" }))
      assert.strictEqual(e._tag, "InvalidFile")
      assert.include(e.message, 'checkout.feature:10: error: scenario "Guest pays by card" has no Then step')
      assert.deepStrictEqual(specsEntries(root), [])
    })
  )

  it.effect("says what it expected for a path in no known format, and for a root with several changes", () =>
    Effect.gen(function* () {
      const root = projectWith("ears")
      writeFileSync(join(root, "notes.md"), "# Notes\n\nJust prose.\n")
      const e = yield* Effect.flip(importSpec(root, { path: "notes.md" }))
      assert.strictEqual(e._tag, "SpecSourceUnusable")
      assert.match(
        e.message,
        /^cannot import notes\.md: not a format spec import reads: .*\(name the format with --format spec-kit\|openspec\|ears\|gherkin to see what is wrong with it\)$/
      )
      const missing = yield* Effect.flip(importSpec(root, { path: "nope" }))
      assert.strictEqual(missing.message, "cannot import nope: no such file or directory")
      const open = projectWith("openspec")
      cpSync(join(open, "openspec/changes/add-two-factor-auth"), join(open, "openspec/changes/add-passkeys"), {
        recursive: true
      })
      const two = yield* Effect.flip(importSpec(open, { path: "openspec" }))
      assert.strictEqual(
        two.message,
        "cannot import openspec: 2 OpenSpec changes in openspec/changes: add-passkeys, add-two-factor-auth (import one change: spec-orch spec import <path>/changes/<change-id>)"
      )
    })
  )

  it.effect("refuses to replace a mission that was not imported", () =>
    Effect.gen(function* () {
      const root = projectWith("ears")
      yield* Missions.use((m) => m.create({ title: "Thermostat", id: "thermostat-schedules" })).pipe(
        Effect.provide(layer(root))
      )
      const e = yield* Effect.flip(importSpec(root, { path: "thermostat-requirements.md" }))
      assert.strictEqual(
        e.message,
        "mission thermostat-schedules: it exists and was not imported (docs/specs/thermostat-schedules/spec.md has no import marker) (import under another id with --mission <id>, or pass --force to replace it)"
      )
    })
  )
})
