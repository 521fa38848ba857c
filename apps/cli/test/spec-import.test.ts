/** `spec-orch spec import`: a spec-kit feature becomes a mission that approves and plans offline from its criteria. */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { cli } from "./cli.js"

const example = join(import.meta.dirname, "../../../examples/hello-node")
const FIXTURES = join(import.meta.dirname, "../../../support/test-kit/fixtures/specs")

/** The example project with the spec-kit fixture's `specs/001-photo-albums/`. */
const project = () => {
  const dir = mkdtempSync(join(tmpdir(), "cli-spec-import-"))
  cpSync(example, dir, { recursive: true })
  cpSync(join(FIXTURES, "spec-kit"), dir, { recursive: true })
  return dir
}

describe("spec-orch spec import", () => {
  it.effect("imports a spec-kit feature; mission approve and an offline plan follow from its criteria", () =>
    Effect.gen(function* () {
      const dir = project()
      const r = yield* cli("--cwd", dir, "spec", "import", "specs/001-photo-albums")
      assert.strictEqual(r.code, 0, r.stderr)
      assert.strictEqual(
        r.stdout,
        [
          "Imported specs/001-photo-albums (spec-kit) into mission 001-photo-albums (drafting): 11 acceptance criteria, 4 task groups.",
          "Review docs/specs/001-photo-albums/spec.md, then approve it with `spec-orch mission approve 001-photo-albums`."
        ].join("\n")
      )

      const again = yield* cli("--cwd", dir, "spec", "import", "specs/001-photo-albums")
      assert.strictEqual(
        again.stdout,
        "Mission 001-photo-albums is up to date with specs/001-photo-albums (drafting; nothing changed)."
      )

      const approved = yield* cli("--cwd", dir, "mission", "approve", "001-photo-albums", "--approved-by", "ada")
      assert.strictEqual(approved.code, 0, approved.stderr)

      const planned = yield* cli("--cwd", dir, "plan", "001-photo-albums", "--offline", "--json")
      assert.strictEqual(planned.code, 0, planned.stderr)
      const plan = JSON.parse(planned.stdout).plan
      const mission = JSON.parse(readFileSync(join(dir, "docs/specs/001-photo-albums/mission.json"), "utf8"))
      const packets = plan.waves.flatMap((w: { work_packets: Array<Record<string, any>> }) => w.work_packets)
      assert.deepStrictEqual(packets.map((p: { packet_id: string }) => p.packet_id).slice(0, 4), [
        "phase-1-setup",
        "phase-2-user-story-1-create-an-album",
        "phase-3-user-story-2-reorder-albums",
        "phase-4-user-story-3-share-an-album-by-l"
      ])
      const planned_criteria = packets
        .flatMap((p: { acceptance_criteria: Array<string> }) => p.acceptance_criteria)
        .sort()
      assert.deepStrictEqual(
        planned_criteria,
        [...mission.acceptance_criteria].sort(),
        "every imported criterion is in exactly one packet"
      )
      const share = packets.find((p: { packet_id: string }) => p.packet_id.startsWith("phase-4"))
      assert.deepStrictEqual(share.files_in_scope, ["src/sharing/links.ts", "src/sharing/routes.ts"])
      assert.isTrue(
        share.acceptance_criteria.some((c: string) =>
          c.startsWith("US3 Share an album by link: Given an album, when its owner creates a share link")
        )
      )
    })
  )

  it.effect("a changed source updates the draft and lists what changed; an approved one needs --force", () =>
    Effect.gen(function* () {
      const dir = project()
      assert.strictEqual((yield* cli("--cwd", dir, "spec", "import", "specs/001-photo-albums")).code, 0)
      assert.strictEqual(
        (yield* cli("--cwd", dir, "mission", "approve", "001-photo-albums", "--approved-by", "ada")).code,
        0
      )
      const specFile = join(dir, "specs/001-photo-albums/spec.md")
      writeFileSync(
        specFile,
        readFileSync(specFile, "utf8").replace(
          "- **FR-006**",
          "- **FR-007**: System MUST show the album count on the profile page.\n- **FR-006**"
        )
      )
      const refused = yield* cli("--cwd", dir, "spec", "import", "specs/001-photo-albums")
      assert.strictEqual(refused.code, 1)
      assert.include(
        refused.stderr,
        "mission 001-photo-albums: it is approved and the source changed (1 criterion added) (pass --force"
      )
      const forced = yield* cli("--cwd", dir, "spec", "import", "specs/001-photo-albums", "--force", "--json")
      assert.strictEqual(forced.code, 0, forced.stderr)
      const out = JSON.parse(forced.stdout)
      assert.strictEqual(out.action, "updated")
      assert.deepStrictEqual(out.changes.added, ["FR-007: System MUST show the album count on the profile page."])
      assert.strictEqual(out.mission.status, "drafting")
      assert.isTrue(out.unapproved)
    })
  )

  it.effect("takes the original's flags: --format bdd, --mission-id, --title and --dry-run", () =>
    Effect.gen(function* () {
      const dir = project()
      cpSync(join(FIXTURES, "gherkin/checkout.feature"), join(dir, "features/checkout.feature"), { recursive: true })
      const dry = yield* cli(
        "--cwd",
        dir,
        "spec",
        "import",
        "features",
        "--format",
        "bdd",
        "--mission-id",
        "checkout",
        "--title",
        "Checkout",
        "--dry-run"
      )
      assert.strictEqual(dry.code, 0, dry.stderr)
      assert.include(
        dry.stdout,
        [
          "Would import features (gherkin) into mission checkout (drafting): 4 acceptance criteria.",
          "Dry run: nothing written. The draft's spec.md would be:",
          "",
          "# Checkout",
          "",
          "<!-- spec-orch import: format=gherkin source=features sha256="
        ].join("\n")
      )
      assert.include(
        dry.stdout,
        '- Guest pays by card: Given a guest with "Blue mug" in the cart, when they pay with a valid card, then they see an order confirmation with an order number, and they receive a confirmation email (source: features/checkout.feature:10)'
      )
      assert.isFalse(existsSync(join(dir, "docs/specs/checkout")))
      const r = yield* cli(
        "--cwd",
        dir,
        "spec",
        "import",
        "features",
        "--format",
        "bdd",
        "--mission-id",
        "checkout",
        "--title",
        "Checkout",
        "--json"
      )
      assert.strictEqual(r.code, 0, r.stderr)
      const out = JSON.parse(r.stdout)
      assert.deepStrictEqual(
        [out.action, out.format, out.mission.id, out.mission.title, out.criteria],
        ["created", "gherkin", "checkout", "Checkout", 4]
      )
    })
  )

  it.effect("a malformed source fails with file and line and leaves no mission behind", () =>
    Effect.gen(function* () {
      const dir = project()
      const specFile = join(dir, "specs/001-photo-albums/spec.md")
      writeFileSync(
        specFile,
        readFileSync(specFile, "utf8").replace(", **Then** they see an error saying the name is taken.", ".")
      )
      const r = yield* cli("--cwd", dir, "spec", "import", "specs/001-photo-albums", "--format", "spec-kit")
      assert.strictEqual(r.code, 1)
      assert.include(r.stderr, "specs/001-photo-albums/spec.md:21: error: acceptance scenario 2 of US1 has no Then")
      assert.isFalse(existsSync(join(dir, "docs/specs/001-photo-albums")))
      assert.deepStrictEqual(existsSync(join(dir, "docs/specs")) ? readdirSync(join(dir, "docs/specs")) : [], [])
    })
  )
})
