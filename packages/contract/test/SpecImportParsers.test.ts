import { assert, describe, it } from "@effect/vitest"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import {
  earsKind,
  formatProblem,
  importEars,
  importGherkin,
  importOpenSpec,
  importSpecKit,
  type SourceFile
} from "../src/index.js"

const FIXTURES = join(import.meta.dirname, "../../../support/test-kit/fixtures/specs")
const src = (p: string): SourceFile => ({ file: p, text: readFileSync(join(FIXTURES, p), "utf8") })
const text = (file: string, ...lines: Array<string>): SourceFile => ({ file, text: `${lines.join("\n")}\n` })
const errors = (r: { problems?: ReadonlyArray<Parameters<typeof formatProblem>[0]> | undefined }) =>
  (r.problems ?? []).map(formatProblem)

describe("spec-kit import", () => {
  const d = "spec-kit/specs/001-photo-albums"
  it("makes one criterion per acceptance scenario and per functional requirement, each with its line", () => {
    const r = importSpecKit({
      feature: "001-photo-albums",
      spec: src(`${d}/spec.md`),
      plan: src(`${d}/plan.md`),
      tasks: src(`${d}/tasks.md`)
    })
    assert.isUndefined(r.problems)
    const s = r.spec!
    assert.strictEqual(s.title, "Photo Albums")
    assert.strictEqual(s.suggestedId, "001-photo-albums")
    assert.strictEqual(s.criteria.length, 5 + 6)
    assert.deepStrictEqual(s.criteria[0], {
      text: 'US1 Create an album from uploaded photos: Given a user with three uploaded photos, when they create an album named "Trip" with two of them, then the album "Trip" shows exactly those two photos.',
      file: `${d}/spec.md`,
      line: 20
    })
    assert.deepStrictEqual(s.criteria[5], {
      text: "FR-001: System MUST let a user create an album from any of their uploaded photos.",
      file: `${d}/spec.md`,
      line: 61
    })
    assert.deepStrictEqual(s.constraints, ["no new runtime dependencies", "share tokens are never logged"])
    assert.deepStrictEqual(s.successCriteria, [
      "SC-001: A user creates an album in under 30 seconds.",
      "SC-002: A shared album opens in under 2 seconds at the 95th percentile."
    ])
    assert.include(
      s.notes,
      "Open question (spec-kit/specs/001-photo-albums/spec.md:66): retention period not specified"
    )
    assert.deepStrictEqual(
      s.tasks.map((t) => [t.title, t.tasks.length]),
      [
        ["Phase 1: Setup", 2],
        ["Phase 2: User Story 1 - Create an album", 3],
        ["Phase 3: User Story 2 - Reorder albums", 1],
        ["Phase 4: User Story 3 - Share an album by link", 2]
      ]
    )
    assert.strictEqual(
      s.tasks[0]!.tasks[1],
      "T002 [P] Add the albums and album_photos tables in `src/db/schema.ts` (spec-kit/specs/001-photo-albums/tasks.md:14)"
    )
  })

  it("names the file, line and expected form of a scenario without Then", () => {
    const r = importSpecKit({
      feature: "x",
      spec: text(
        "specs/x/spec.md",
        "# Feature Specification: X",
        "",
        "## User Scenarios & Testing",
        "",
        "### User Story 1 - Log in (Priority: P1)",
        "",
        "**Acceptance Scenarios**:",
        "",
        "1. **Given** a user, **When** they log in, **Then** they see the dashboard.",
        "2. **Given** a user, **When** they log in twice"
      )
    })
    assert.deepStrictEqual(errors(r), [
      'specs/x/spec.md:10: error: acceptance scenario 2 of US1 has no Then: "Given a user, When they log in twice" (write it as `1. **Given** <state>, **When** <action>, **Then** <outcome>`)'
    ])
  })

  it("refuses a functional requirement without an id and a duplicate id", () => {
    const r = importSpecKit({
      feature: "x",
      spec: text(
        "spec.md",
        "## Requirements",
        "",
        "### Functional Requirements",
        "",
        "- **FR-001**: System MUST work.",
        "- System MUST also be fast.",
        "- **FR-001**: System MUST be cheap."
      )
    })
    assert.deepStrictEqual(errors(r), [
      'spec.md:6: error: functional requirement without an id: "System MUST also be fast." (write it as `- **FR-001**: System MUST …`)',
      "spec.md:7: error: FR-001 is defined twice (first at line 5) (give each requirement its own id)"
    ])
  })

  it("reads scenarios wrapped onto several lines and the older template's Acceptance Scenarios section", () => {
    const r = importSpecKit({
      feature: "002-login",
      spec: text(
        "specs/002-login/spec.md",
        "# Feature Specification: Login",
        "",
        "## User Scenarios & Testing",
        "",
        "### Primary User Story",
        "A member signs in with email and password.",
        "",
        "### Acceptance Scenarios",
        "1. **Given** a member with a password, **When** they sign in",
        "   with the right password, **Then** they see their dashboard.",
        '2. **Given** a member, **When** they sign in with a wrong password, **Then** they see "wrong email or password".'
      )
    })
    assert.isUndefined(r.problems)
    assert.deepStrictEqual(
      r.spec!.criteria.map((c) => [c.line, c.text]),
      [
        [
          9,
          "Given a member with a password, when they sign in with the right password, then they see their dashboard."
        ],
        [11, 'Given a member, when they sign in with a wrong password, then they see "wrong email or password".']
      ]
    )
  })

  it("refuses a spec with nothing to accept", () => {
    const r = importSpecKit({
      feature: "x",
      spec: text("spec.md", "# Feature Specification: X", "", "## User Scenarios & Testing", "", "Nothing yet.")
    })
    assert.match(
      errors(r)[0]!,
      /^spec\.md:3: error: no acceptance scenarios and no functional requirements found \(add /
    )
  })
})

describe("OpenSpec import", () => {
  const c = "openspec/openspec/changes/add-two-factor-auth"
  const load = () =>
    importOpenSpec({
      change: "add-two-factor-auth",
      proposal: src(`${c}/proposal.md`),
      tasks: src(`${c}/tasks.md`),
      deltas: ["auth", "notifications"].map((capability) => ({
        capability,
        file: src(`${c}/specs/${capability}/spec.md`)
      }))
    })

  it("makes one criterion per scenario of added and modified requirements and one per removed requirement", () => {
    const s = load().spec!
    assert.strictEqual(s.title, "Add two-factor authentication")
    assert.strictEqual(s.suggestedId, "add-two-factor-auth")
    assert.deepStrictEqual(
      s.criteria.map((x) => `${x.file.split("/").slice(-2).join("/")}:${x.line} ${x.text.slice(0, 50)}`),
      [
        "auth/spec.md:7 auth / TOTP second factor / Valid code: WHEN a use",
        "auth/spec.md:12 auth / TOTP second factor / Wrong code: WHEN a use",
        "auth/spec.md:22 auth / Recovery codes / Recovery code used once: W",
        "auth/spec.md:34 auth / Session lifetime (modified) / Remembered se",
        'auth/spec.md:41 auth: requirement "SMS sign-in codes" is removed (',
        "notifications/spec.md:7 notifications / Security notification / Two-factor"
      ]
    )
    assert.strictEqual(
      s.criteria[1]!.text,
      'auth / TOTP second factor / Wrong code: WHEN a user with two-factor enabled enters the correct password and a wrong TOTP code; THEN sign-in is refused with "invalid code"; AND the failed attempt is recorded'
    )
    assert.include(s.intent, "Change: BREAKING: remove SMS sign-in codes.")
    assert.include(
      s.notes,
      'Migration for "SMS sign-in codes": Users with SMS codes are asked to set up TOTP at their next sign-in.'
    )
    assert.deepStrictEqual(
      s.tasks.map((t) => t.title),
      ["Second factor", "Recovery and notifications"]
    )
  })

  it("names requirements without scenarios, scenarios without THEN, three-hash scenarios and stray requirements", () => {
    const r = importOpenSpec({
      change: "c",
      deltas: [
        {
          capability: "auth",
          file: text(
            "changes/c/specs/auth/spec.md",
            "### Requirement: Stray",
            "## ADDED Requirements",
            "### Requirement: Lockout",
            "The system SHALL lock an account after 5 failures.",
            "### Requirement: Audit",
            "#### Scenario: Logged",
            "- **WHEN** a user signs in",
            "### Scenario: Wrong level",
            "## CHANGED Requirements"
          )
        }
      ]
    })
    assert.deepStrictEqual(errors(r), [
      'changes/c/specs/auth/spec.md:1: error: requirement "Stray" is outside a delta section (requirements go under `## ADDED Requirements`, `## MODIFIED Requirements`, `## REMOVED Requirements` or `## RENAMED Requirements`)',
      "changes/c/specs/auth/spec.md:8: error: a scenario heading has 3 '#', expected 4 (write `#### Scenario: <name>` (OpenSpec finds scenarios by four hashes))",
      'changes/c/specs/auth/spec.md:9: error: unknown delta section "CHANGED Requirements" (requirements go under `## ADDED Requirements`, `## MODIFIED Requirements`, `## REMOVED Requirements` or `## RENAMED Requirements`)',
      'changes/c/specs/auth/spec.md:3: error: requirement "Lockout" has no scenario (add `#### Scenario: <name>` with `- **WHEN** …` and `- **THEN** …` bullets)',
      'changes/c/specs/auth/spec.md:6: error: scenario "Logged" needs a WHEN bullet followed by a THEN bullet (write `- **WHEN** <condition>` then `- **THEN** <outcome>`)'
    ])
  })
})

describe("EARS import", () => {
  it("makes one criterion per requirement and keeps other lists as notes", () => {
    const s = importEars(src("ears/thermostat-requirements.md"), "thermostat-requirements").spec!
    assert.strictEqual(s.title, "Thermostat schedules")
    assert.strictEqual(s.suggestedId, "thermostat-schedules")
    assert.deepStrictEqual(
      s.criteria.map((c) => `${c.line} ${c.text.slice(0, 24)}`),
      [
        "8 REQ-1: The thermostat sh",
        "9 REQ-2: When the user sav",
        "10 REQ-3: While the thermos",
        "11 REQ-4: If the target tem",
        "12 REQ-5: Where a humidity ",
        "13 REQ-6: While the thermos"
      ]
    )
    assert.deepStrictEqual(s.notes, ["Times are local time; daylight saving changes shift entries with the clock."])
  })

  it("reads Kiro-style requirements.md: user stories as intent, numbered WHEN/THEN/SHALL criteria", () => {
    const r = importEars(
      text(
        ".kiro/specs/export/requirements.md",
        "# Requirements Document",
        "",
        "## Requirements",
        "",
        "### Requirement 1",
        "",
        "**User Story:** As an analyst, I want to export a report as CSV, so that I can open it in a spreadsheet.",
        "",
        "#### Acceptance Criteria",
        "",
        "1. WHEN the analyst chooses Export THEN the system SHALL download a CSV file of the report",
        '2. IF the report is empty THEN the system SHALL show "nothing to export"'
      ),
      "requirements"
    )
    assert.isUndefined(r.problems)
    assert.deepStrictEqual(
      r.spec!.criteria.map((c) => [c.line, c.text]),
      [
        [11, "WHEN the analyst chooses Export THEN the system SHALL download a CSV file of the report"],
        [12, 'IF the report is empty THEN the system SHALL show "nothing to export"']
      ]
    )
    assert.deepStrictEqual(r.spec!.intent, [
      "User Story: As an analyst, I want to export a report as CSV, so that I can open it in a spreadsheet."
    ])
  })

  it("classifies the five patterns and the complex one, upper-case variants included", () => {
    const kinds = [
      "The pump shall stop at 90 kPa.",
      "When the door opens, the light shall turn on.",
      "While the car moves, the doors shall stay locked.",
      "If the sensor fails, then the controller shall raise an alarm.",
      "Where a printer is attached, the kiosk shall print a receipt.",
      "While charging, when the battery is full, the charger shall stop.",
      "WHEN a user submits the form THEN the system SHALL save it"
    ].map((t) => earsKind(t))
    assert.deepStrictEqual(kinds, [
      { kind: "ubiquitous" },
      { kind: "event-driven" },
      { kind: "state-driven" },
      { kind: "unwanted-behaviour" },
      { kind: "optional-feature" },
      { kind: "complex" },
      { kind: "event-driven" }
    ])
  })

  it("names each malformed requirement with its line and the expected pattern", () => {
    const r = importEars(
      text(
        "reqs.md",
        "# Pump",
        "",
        "## Requirements",
        "",
        "- R1: When the door opens the light turns on.",
        "- R2: If the sensor fails, the controller shall raise an alarm.",
        "- R3: When the tank is full the pump shall stop."
      ),
      "reqs"
    )
    const e = errors(r)
    assert.strictEqual(e.length, 3)
    assert.strictEqual(
      e[0],
      'reqs.md:5: error: not an EARS requirement: "When" requirement has no "shall": "When the door opens the light turns on." (write it as `When <trigger>, the <system> shall <response>` (also While, If … then, Where, or `The <system> shall <response>`))'
    )
    assert.match(e[1]!, /^reqs\.md:6: error: not an EARS requirement: an "If" requirement needs "then"/)
    assert.match(e[2]!, /^reqs\.md:7: error: not an EARS requirement: the when clause must end with a comma/)
  })
})

describe("Gherkin import", () => {
  it("makes one criterion per scenario, outline and rule example included", () => {
    const s = importGherkin([src("gherkin/checkout.feature")], "checkout").spec!
    assert.strictEqual(s.title, "Guest checkout")
    assert.strictEqual(s.suggestedId, "guest-checkout")
    assert.deepStrictEqual(
      s.criteria.map((c) => c.line),
      [10, 17, 23, 35]
    )
    assert.strictEqual(
      s.criteria[1]!.text,
      'Declined card: Given a guest with "Blue mug" in the cart, when their card is declined, then the cart still contains "Blue mug", but no order is created'
    )
    assert.match(s.criteria[2]!.text, /\(for each of 2 examples\)$/)
    assert.match(
      s.criteria[3]!.text,
      /^A guest can track an order without an account \/ Tracking link in the confirmation email: /
    )
    assert.deepStrictEqual(s.context, [
      'Background (Guest checkout): Given the shop has "Blue mug" in stock at 12.00 EUR'
    ])
    assert.deepStrictEqual(s.intent, [
      "Shoppers can buy without creating an account, so that a first purchase takes as few steps as possible."
    ])
  })

  it("names steps outside scenarios, scenarios without Then, outlines without examples and stray text", () => {
    const r = importGherkin(
      [
        text(
          "login.feature",
          "Feature: Login",
          "  Given a stray step",
          "  Scenario: No outcome",
          "    Given a user",
          "    When they log in",
          "  Scenario Outline: Many",
          "    Given <n> users",
          "    Then all log in",
          "  Scenario: Typo",
          "    Gven a user",
          "    Then ok"
        )
      ],
      "login"
    )
    assert.deepStrictEqual(errors(r), [
      'login.feature:2: error: step "Given a stray step" outside a scenario (steps go under `Scenario:`, `Example:` or `Background:`)',
      'login.feature:10: error: expected a step, found "Gven a user" (a scenario holds steps starting with Given, When, Then, And or But (then tables `| … |` or doc strings))',
      'login.feature:3: error: scenario "No outcome" has no Then step: nothing says what must be true afterwards (add `Then <expected outcome>`)',
      'login.feature:6: error: scenario outline "Many" has no example rows (add `Examples:` with a header row and at least one row)'
    ])
  })

  it("refuses a file that is not Gherkin", () => {
    assert.deepStrictEqual(errors(importGherkin([text("notes.feature", "just some notes")], "notes")), [
      'notes.feature:1: error: expected "Feature: <name>", found "just some notes" (a .feature file starts with `Feature: <name>` (tags and # comments may come first))'
    ])
  })
})
