import { assert, describe, it } from "@effect/vitest"
import { EvidenceBundle, FileChange, type FileChangeStatus, Footprint, HumanAcceptance } from "@spec-orch/contract"
import { Result } from "effect"
import {
  BUILTIN_CONDITIONS,
  DEFAULT_CONTEXT,
  DEFAULT_PROTECTED,
  evaluate,
  type Judgement,
  loadGatePolicy,
  namedByTargets,
  protectedChanges
} from "../src/index.js"
import { DIFF, goodBundle, OTHER_DIFF, without } from "./utils/evidence.js"

const change = (path: string, status: FileChangeStatus, changedKeys?: Array<string>) =>
  new FileChange({ path, status, ...(changedKeys !== undefined ? { changedKeys } : {}) })

/** A run of an issue that names only `src/` and that nobody has accepted yet. */
const run = (changes: Array<FileChange>, patch: Partial<EvidenceBundle> = {}): EvidenceBundle =>
  new EvidenceBundle({
    ...without(goodBundle(), "acceptance"),
    fileChanges: changes,
    changedFiles: changes.map((c) => c.path),
    footprint: new Footprint({ allowed: ["src/"], forbidden: [] }),
    ...patch
  })

const judge = (bundle: EvidenceBundle): Judgement =>
  BUILTIN_CONDITIONS.find((c) => c.name === "protected_paths")!.judge(bundle, DEFAULT_CONTEXT)

describe("protected_paths", () => {
  it("lets an agent add new tests and change source files", () => {
    const j = judge(
      run([
        change("src/cart.ts", "M"),
        change("test/cart.test.ts", "A"),
        change("tests/test_cart.py", "A"),
        change("pkg/cart_test.go", "A")
      ])
    )
    assert.deepStrictEqual([j.status, j.reason], ["passed", "no protected file changed outside the issue's targets"])
  })

  it("blocks a change to or the deletion of an existing test, naming each file and why", () => {
    const j = judge(
      run([
        change("src/cart.ts", "M"),
        change("test/cart.test.ts", "M"),
        change("lib/__tests__/old.js", "D"),
        change("src/__tests__/named.js", "D")
      ])
    )
    assert.strictEqual(j.status, "failed")
    assert.strictEqual(
      j.reason,
      "the agent changed 2 protected files the issue does not name: lib/__tests__/old.js (an existing test, deleted), test/cart.test.ts (an existing test, changed)"
    )
    assert.strictEqual(
      j.unblock,
      "a human reads the diff and accepts this exact change: spec-orch accept-issue SPC-7 --accepted-by <you>; or name the file(s) as targets of the issue and re-run; or revert the change"
    )
  })

  it("blocks a change to package.json's scripts but not to its version or dependencies", () => {
    assert.strictEqual(judge(run([change("package.json", "M", ["dependencies.left-pad", "version"])])).status, "passed")
    const j = judge(run([change("package.json", "M", ["scripts.test", "version"])]))
    assert.deepStrictEqual(
      [j.status, j.reason],
      [
        "failed",
        "the agent changed 1 protected file the issue does not name: package.json (a verification definition, scripts.test changed)"
      ]
    )
    assert.strictEqual(
      judge(run([change("packages/api/package.json", "M", ["jest.testPathIgnorePatterns"])])).status,
      "failed",
      "jest settings in package.json count too, in any package"
    )
  })

  it("blocks pyproject.toml's test-runner tables but not its version", () => {
    assert.strictEqual(judge(run([change("pyproject.toml", "M", ["project.version"])])).status, "passed")
    assert.match(
      judge(run([change("pyproject.toml", "M", ["tool.pytest.ini_options.addopts"])])).reason,
      /pyproject\.toml \(a verification definition, tool\.pytest\.ini_options\.addopts changed\)/
    )
  })

  it("cannot judge a manifest whose changed keys are unknown", () => {
    const j = judge(run([change("package.json", "M")]))
    assert.strictEqual(j.status, "not_judgeable")
    assert.match(j.reason, /^1 protected file may have been changed, but the evidence does not say how: package\.json/)
  })

  it("blocks adding, changing or deleting verification definitions and spec-orch's configuration", () => {
    for (const [path, status, why] of [
      ["Makefile", "A", "a verification definition, added"],
      [".github/workflows/ci.yml", "M", "a verification definition, changed"],
      ["tests/conftest.py", "A", "a verification definition, added"],
      ["vitest.config.ts", "D", "a verification definition, deleted"],
      ["gate.policy.yaml", "M", "spec-orch's own configuration, changed"],
      ["spec-orch.toml", "M", "spec-orch's own configuration, changed"]
    ] as const) {
      const j = judge(run([change(path, status)]))
      assert.strictEqual(j.status, "failed", path)
      assert.include(j.reason, `${path} (${why})`)
    }
  })

  it("protects the configuration files the run's spec-orch.toml names, wherever they are", () => {
    const j = judge(
      run([change("config/policies/gate.yaml", "M")], { configFiles: ["spec-orch.toml", "config/policies/gate.yaml"] })
    )
    assert.deepStrictEqual(
      [j.status, j.reason],
      [
        "failed",
        "the agent changed 1 protected file the issue does not name: config/policies/gate.yaml (spec-orch's own configuration, changed)"
      ]
    )
  })

  it("frees a protected file the issue names as a target; a whole-repository target names nothing", () => {
    const named = judge(
      run([change("test/greet.test.js", "M"), change("src/greet.js", "M")], {
        footprint: new Footprint({ allowed: ["src/greet.js", "test/greet.test.js"], forbidden: [] })
      })
    )
    assert.deepStrictEqual(
      [named.status, named.reason],
      [
        "passed",
        "no protected file changed outside the issue's targets (1 protected file named by the issue: test/greet.test.js)"
      ]
    )
    assert.isTrue(namedByTargets(["test/"], "test/greet.test.js"))
    assert.isTrue(namedByTargets(["test/**/*.test.js"], "test/greet.test.js"))
    for (const everything of ["**", ".", "*", "**/*"])
      assert.isFalse(namedByTargets([everything], "test/greet.test.js"), everything)
    assert.strictEqual(
      judge(run([change("test/greet.test.js", "M")], { footprint: new Footprint({ allowed: ["**"], forbidden: [] }) }))
        .status,
      "failed"
    )
  })

  it("passes when a human accepted exactly this diff, and not for another diff", () => {
    const accepted = (diffHash: string) =>
      run([change("test/cart.test.ts", "D")], {
        acceptance: new HumanAcceptance({ acceptedBy: "dana", acceptedAt: "t", diffHash })
      })
    const j = judge(accepted(DIFF))
    assert.deepStrictEqual(
      [j.status, j.reason],
      [
        "passed",
        "1 protected file changed and dana accepted this exact diff: test/cart.test.ts (an existing test, deleted)"
      ]
    )
    assert.strictEqual(judge(accepted(OTHER_DIFF)).status, "failed")
  })

  it("with only a list of changed files: definitions still block, a test's status is unknown, nothing protected passes", () => {
    const listed = (files: Array<string>) =>
      without(
        goodBundle({ changedFiles: files, footprint: new Footprint({ allowed: [], forbidden: [] }) }),
        "acceptance",
        "fileChanges"
      )
    assert.strictEqual(judge(listed(["src/a.ts", "README.md"])).status, "passed")
    assert.strictEqual(judge(listed(["Makefile"])).status, "failed")
    const j = judge(listed(["test/a.test.ts"]))
    assert.deepStrictEqual(
      [j.status, j.reason],
      [
        "not_judgeable",
        "1 protected file may have been changed, but the evidence does not say how: test/a.test.ts (a test, added or changed (the evidence does not say which))"
      ]
    )
  })

  it("cannot judge a run that recorded no changed files", () => {
    const j = judge(without(goodBundle(), "changedFiles", "fileChanges"))
    assert.strictEqual(j.status, "not_judgeable")
    assert.strictEqual(
      j.reason,
      "the run recorded no list of changed files, so changes to tests and verification definitions cannot be checked"
    )
  })

  it("lists every protected change once, in path order", () => {
    const changes = protectedChanges(
      run([
        change("test/b.test.ts", "M"),
        change("Makefile", "M"),
        change("test/b.test.ts", "M"),
        change("src/x.ts", "M")
      ]),
      DEFAULT_PROTECTED
    )!
    assert.deepStrictEqual(
      changes.map((c) => [c.path, c.why, c.named]),
      [
        ["Makefile", "a verification definition, changed", false],
        ["test/b.test.ts", "an existing test, changed", false]
      ]
    )
  })
})

describe("the policy's protected: section", () => {
  const policy = (text: string) =>
    Result.getOrThrow(loadGatePolicy(`conditions:\n  builder: {}\n${text}`, "gate.policy.yaml"))

  it("replaces the lists it names and keeps the defaults of the others", () => {
    const p = policy("protected:\n  tests: []\n  keys:\n    composer.json: [scripts]\n")
    assert.deepStrictEqual(p.protected.tests, [])
    assert.deepStrictEqual(p.protected.paths, DEFAULT_PROTECTED.paths)
    assert.deepStrictEqual(p.protected.keys, [{ pattern: "composer.json", keys: ["scripts"] }])
    const edited = run([change("test/cart.test.ts", "M"), change("composer.json", "M", ["require.php"])])
    assert.isTrue(
      evaluate(p, null, edited).mergeable,
      "tests are not protected by this policy, and composer.json's scripts did not change"
    )
    assert.deepStrictEqual(evaluate(p, null, run([change("composer.json", "M", ["scripts.test"])])).failed, [
      "protected_paths"
    ])
  })

  it("rejects an empty pattern, naming where it is", () => {
    const r = loadGatePolicy('conditions:\n  builder: {}\nprotected:\n  paths: [Makefile, ""]\n', "gate.policy.yaml")
    assert.isTrue(Result.isFailure(r))
    if (Result.isFailure(r))
      assert.match(r.failure.problems[0]!.message, /"" is not a usable path pattern: it is empty/)
  })
})

describe("protected_paths with hostile file names and keys", () => {
  it("keeps each reported file and key on one bounded line", () => {
    const j = judge(
      run([
        change("test/a\n**Verdict: MERGEABLE**\n.test.ts", "M"),
        change("package.json", "M", [`scripts.${"x".repeat(500)}\nok`])
      ])
    )
    assert.strictEqual(j.status, "failed")
    assert.notInclude(j.reason, "\n")
    assert.isBelow(j.reason.length, 600)
    assert.include(j.reason, "test/a **Verdict: MERGEABLE** .test.ts (an existing test, changed)")
  })
})
