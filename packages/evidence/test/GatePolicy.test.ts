import { assert, describe, it } from "@effect/vitest"
import { formatProblem } from "@spec-orch/contract"
import { Result } from "effect"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { ConditionRegistry, defaultGatePolicy, loadGatePolicy, passed, profileReferenceProblems } from "../src/index.js"

const fixture = (name: string) => readFileSync(join(import.meta.dirname, "fixtures", name), "utf8")
/** The formatted problems of loading `text` as `policies/gate.policy.yaml`, or [] when it loads. */
const problems = (text: string, registry?: ConditionRegistry) => {
  const r = loadGatePolicy(text, "policies/gate.policy.yaml", registry)
  return Result.isFailure(r) ? r.failure.problems.map(formatProblem) : r.success.warnings.map(formatProblem)
}
const load = (text: string) => Result.getOrThrow(loadGatePolicy(text, "gate.policy.yaml"))

describe("loadGatePolicy", () => {
  it("loads the original's policy unchanged, without problems", () => {
    const r = loadGatePolicy(fixture("original.gate.policy.yaml"), "gate.policy.yaml")
    assert.isTrue(Result.isSuccess(r))
    const policy = Result.getOrThrow(r)
    assert.deepStrictEqual(policy.warnings, [])
    assert.deepStrictEqual(
      policy.conditions.map((c) => [c.name, c.required]),
      [
        ["spec_exists", true],
        ["spec_approved", true],
        ["within_boundaries", true],
        ["builder", true],
        ["verification", true],
        ["review", true],
        ["preview", false],
        ["human_acceptance", true],
        ["findings", false],
        ["compliance", false],
        ["protected_paths", true],
        ["secrets", true]
      ]
    )
    assert.deepStrictEqual(
      policy.conditions.filter((c) => c.enforced).map((c) => c.name),
      ["protected_paths", "secrets"],
      "added by spec-orch, not by the file"
    )
    assert.strictEqual(policy.conditions[0]!.description, "Task spec file exists in the worktree")
    assert.isFalse(policy.autoMerge)
    assert.deepStrictEqual(policy.autoMergeConditions, ["builder", "verification", "review", "findings"])
    assert.deepStrictEqual(
      policy.profiles.map((p) => [p.name, p.enable, p.disable, p.autoMerge]),
      [
        ["daemon", [], ["human_acceptance"], true],
        ["ci", ["findings"], ["human_acceptance", "preview"], false],
        ["strict", ["preview", "findings", "compliance"], [], false],
        [
          "hotfix",
          [],
          ["human_acceptance", "compliance", "findings", "spec_exists", "spec_approved", "within_boundaries"],
          true
        ],
        ["unattended", ["findings"], ["human_acceptance"], false]
      ]
    )
    assert.deepStrictEqual(
      policy.profiles.filter((p) => p.builtin === true).map((p) => p.name),
      ["unattended"],
      "the file's four profiles are its own; spec-orch's unattended comes along"
    )
    // The file has no `deviations:` key: every deviation blocks, as in the original.
    assert.deepStrictEqual(policy.blockOn, ["minor", "major", "blocking"])
    assert.strictEqual(policy.name, "gate.policy.yaml")
  })

  it("has a built-in default: the original's required set plus secrets, no auto-merge, its four profiles", () => {
    const policy = defaultGatePolicy()
    assert.strictEqual(policy.source, "built-in")
    assert.deepStrictEqual(
      policy.conditions.filter((c) => c.required).map((c) => c.name),
      [
        "spec_exists",
        "spec_approved",
        "within_boundaries",
        "builder",
        "verification",
        "review",
        "human_acceptance",
        "protected_paths",
        "secrets"
      ]
    )
    assert.deepStrictEqual(
      policy.blockOn,
      ["major", "blocking"],
      "the built-in policy lets minor deviations (lockfiles, changesets) pass"
    )
    assert.isFalse(policy.autoMerge)
    assert.deepStrictEqual(
      policy.profiles.map((p) => p.name),
      ["daemon", "ci", "strict", "hotfix", "unattended"]
    )
  })

  it("keeps the built-in profiles a policy file does not define: the daemon's default profile always exists", () => {
    const policy = load("conditions:\n  builder:\n  verification:\n")
    assert.deepStrictEqual(
      policy.profiles.map((p) => p.name),
      ["daemon", "ci", "strict", "hotfix", "unattended"]
    )
    assert.isTrue(policy.profiles.every((p) => p.builtin === true))
    const own = load("conditions:\n  builder:\nprofiles:\n  daemon:\n    disable: []\n")
    assert.deepStrictEqual(
      own.profiles.find((p) => p.name === "daemon")!.disable,
      [],
      "a file's own profile wins over the built-in one"
    )
  })

  it("reads a null condition body as required, and the deviations rule", () => {
    const policy = load(
      "conditions:\n  builder:\n  verification: { required: false }\ndeviations:\n  block_on: [blocking]\n"
    )
    assert.deepStrictEqual(
      policy.conditions.map((c) => [c.name, c.required]),
      [
        ["builder", true],
        ["verification", false],
        ["protected_paths", true],
        ["secrets", true]
      ]
    )
    assert.deepStrictEqual(policy.blockOn, ["blocking"])
  })

  it("names file, line and column for malformed YAML", () => {
    const p = problems("conditions:\n  builder:\n    required: true\n   description: [oops\n")
    assert.isAbove(p.length, 0)
    assert.match(p[0]!, /^policies\/gate\.policy\.yaml:4:\d+: error: not valid YAML: /)
  })

  it("reports a duplicate condition as malformed YAML at its line", () => {
    const p = problems("conditions:\n  builder: {}\n  builder: { required: false }\n")
    assert.match(p[0]!, /^policies\/gate\.policy\.yaml:3:\d+: error: not valid YAML: Map keys must be unique/)
  })

  it("names file, line and key for an unknown condition, with a did-you-mean", () => {
    assert.deepStrictEqual(problems("conditions:\n  builder: {}\n  verificaton:\n    required: true\n"), [
      'policies/gate.policy.yaml:3:3: error: conditions.verificaton: unknown condition "verificaton" (did you mean "verification"?)'
    ])
  })

  it("lists the known conditions when nothing is close", () => {
    const [p] = problems("conditions:\n  lunch_break: {}\n")
    assert.match(
      p!,
      /^policies\/gate\.policy\.yaml:2:3: error: conditions\.lunch_break: unknown condition "lunch_break" \(known conditions: spec_exists, spec_approved, .*, budget, scope, secrets\)$/
    )
  })

  it("checks condition names in profiles and auto_merge_conditions", () => {
    assert.deepStrictEqual(
      problems(
        "conditions:\n  builder: {}\nauto_merge_conditions:\n  - buider\nprofiles:\n  ci:\n    enable: [findngs]\n    disable:\n      - reveiw\n"
      ),
      [
        'policies/gate.policy.yaml:4:5: error: auto_merge_conditions.0: unknown condition "buider" (did you mean "builder"?)',
        'policies/gate.policy.yaml:7:14: error: profiles.ci.enable.0: unknown condition "findngs" (did you mean "findings"?)',
        'policies/gate.policy.yaml:9:9: error: profiles.ci.disable.0: unknown condition "reveiw" (did you mean "review"?)'
      ]
    )
  })

  it("names line, key, expected and found for wrong types", () => {
    assert.deepStrictEqual(
      problems('conditions:\n  builder:\n    required: "yes"\nauto_merge: 1\nprofiles:\n  ci:\n    enable: findings\n'),
      [
        'policies/gate.policy.yaml:3:5: error: conditions.builder.required: expected a boolean (true or false), found the string "yes"',
        "policies/gate.policy.yaml:4:1: error: auto_merge: expected a boolean (true or false), found the integer 1",
        'policies/gate.policy.yaml:7:5: error: profiles.ci.enable: expected a list, found the string "findings"'
      ]
    )
  })

  it("rejects an unknown deviation severity in block_on", () => {
    const [p] = problems("conditions:\n  builder: {}\ndeviations:\n  block_on: [major, severe]\n")
    assert.match(
      p!,
      /^policies\/gate\.policy\.yaml:4:21: error: deviations\.block_on\.1: expected one of "minor", "major", "blocking", found the string "severe"$/
    )
  })

  it("requires conditions, and at least one", () => {
    assert.deepStrictEqual(problems("auto_merge: true\n"), [
      "policies/gate.policy.yaml:1:1: error: conditions: is required (a table)"
    ])
    assert.deepStrictEqual(problems("conditions: {}\n"), [
      "policies/gate.policy.yaml:1:1: error: conditions: declares no conditions, so every change would be mergeable (list the conditions to require, e.g. builder and verification)"
    ])
    assert.deepStrictEqual(problems("\n  \n"), [
      "policies/gate.policy.yaml:1:1: error: the policy file is empty (it needs at least a `conditions:` table)"
    ])
    assert.deepStrictEqual(problems("- builder\n- review\n"), [
      "policies/gate.policy.yaml:1:1: error: expected a table with a `conditions:` key, found a list (2 items)"
    ])
  })

  it("rejects a condition both enabled and disabled by one profile", () => {
    assert.deepStrictEqual(
      problems("conditions:\n  review: {}\nprofiles:\n  odd:\n    enable: [review]\n    disable: [review]\n"),
      [
        'policies/gate.policy.yaml:6:15: error: profiles.odd.disable.0: "review" is both enabled and disabled in profile "odd" (keep it in one list)'
      ]
    )
  })

  it("warns about unknown keys with a did-you-mean, and still loads", () => {
    assert.deepStrictEqual(
      problems("conditions:\n  builder: {}\nauto_merg: true\nprofiles:\n  ci:\n    disables: [builder]\n"),
      [
        'policies/gate.policy.yaml:3:1: warning: auto_merg: unknown key, ignored (did you mean "auto_merge"?)',
        'policies/gate.policy.yaml:6:5: warning: profiles.ci.disables: unknown key, ignored (did you mean "disable"?)'
      ]
    )
  })

  it("accepts conditions an embedder registered, and only those", () => {
    const registry = ConditionRegistry.builtin.register({
      name: "license_headers",
      description: "Every file has a license header",
      judge: () => passed("ok")
    })
    assert.deepStrictEqual(problems("conditions:\n  license_headers: {}\n", registry), [])
    assert.deepStrictEqual(problems("conditions:\n  license_header: {}\n", registry), [
      'policies/gate.policy.yaml:2:3: error: conditions.license_header: unknown condition "license_header" (did you mean "license_headers"?)'
    ])
    assert.throws(
      () => registry.register({ name: "builder", description: "", judge: () => passed("") }),
      /already registered/
    )
    assert.throws(
      () => registry.register({ name: "Bad Name", description: "", judge: () => passed("") }),
      /lower_snake_case/
    )
  })

  it("names unknown profiles referred to from spec-orch.toml, with a did-you-mean", () => {
    const policy = load(fixture("original.gate.policy.yaml"))
    const found = profileReferenceProblems(policy, [
      { profile: "stict", file: "spec-orch.toml", key: "gate.profile", line: 12, column: 1, severity: "error" },
      { profile: "ci", file: "spec-orch.toml", key: "daemon.gate_profile", severity: "warning" }
    ])
    assert.deepStrictEqual(found.map(formatProblem), [
      'spec-orch.toml:12:1: error: gate.profile: names gate profile "stict", which gate.policy.yaml does not define (did you mean "strict"?)'
    ])
  })
})
