import { assert, describe, it } from "@effect/vitest"
import { Schema } from "effect"
import { changedKeys, EvidenceBundle, FileChange, fileChangeStatus, StepResult } from "../src/index.js"

describe("changedKeys", () => {
  it("lists the leaf key paths whose values differ in a package.json", () => {
    const base = JSON.stringify({
      name: "shop",
      version: "1.0.0",
      scripts: { test: "node --test test/", lint: "eslint ." },
      dependencies: { a: "1" }
    })
    const head = JSON.stringify({
      name: "shop",
      version: "1.1.0",
      scripts: { test: "echo ok", lint: "eslint ." },
      dependencies: { a: "1", b: "2" }
    })
    assert.deepStrictEqual(changedKeys("package.json", base, head), ["dependencies.b", "scripts.test", "version"])
    assert.deepStrictEqual(changedKeys("package.json", base, base), [])
  })

  it("compares TOML tables down to their leaves, and a missing side as an empty table", () => {
    const base = '[project]\nname = "shop"\nversion = "1.0"\n'
    const head =
      '[project]\nname = "shop"\nversion = "1.0"\n[tool.pytest.ini_options]\naddopts = "-k nothing"\n[tool.black]\nline-length = 100\n'
    assert.deepStrictEqual(changedKeys("pyproject.toml", base, head), [
      "tool.black.line-length",
      "tool.pytest.ini_options.addopts"
    ])
    assert.deepStrictEqual(
      changedKeys("pyproject.toml", undefined, base),
      ["project.name", "project.version"],
      "an added file: every key is new"
    )
    assert.deepStrictEqual(
      changedKeys("pyproject.toml", base, undefined),
      ["project.name", "project.version"],
      "a deleted file: every key is gone"
    )
  })

  it("treats arrays as values and a table replaced by a value as a change of that key", () => {
    assert.deepStrictEqual(changedKeys("a.json", '{"files":[1,2]}', '{"files":[2,1]}'), ["files"])
    assert.deepStrictEqual(changedKeys("a.json", '{"scripts":{"t":"x"}}', '{"scripts":"x"}'), ["scripts"])
  })

  it("reads keys such as __proto__ and constructor as the file's own keys", () => {
    assert.deepStrictEqual(changedKeys("package.json", "{}", '{"__proto__":{"x":1},"constructor":2}'), [
      "__proto__.x",
      "constructor"
    ])
    assert.deepStrictEqual(changedKeys("package.json", '{"__proto__":{"x":1}}', '{"__proto__":{"x":1}}'), [])
  })

  it("answers `undefined` (any change counts) for a file that does not parse, is not a table, or is not JSON/TOML", () => {
    assert.isUndefined(changedKeys("package.json", "{}", "{ not json"))
    assert.isUndefined(changedKeys("pyproject.toml", "[tool\n", ""))
    assert.isUndefined(changedKeys("package.json", "{}", "[1]"))
    assert.isUndefined(changedKeys("Makefile", "a", "b"))
  })
})

describe("FileChange", () => {
  it("reads git's status letters; an unknown one counts as a modification", () => {
    assert.deepStrictEqual(["A", "M", "D", "T", "U", "X"].map(fileChangeStatus), ["A", "M", "D", "T", "M", "M"])
  })

  it("round-trips in an evidence bundle with the preview step", () => {
    const bundle = new EvidenceBundle({
      schemaVersion: 1,
      issueId: "SPC-1",
      fileChanges: [
        new FileChange({ path: "package.json", status: "M", changedKeys: ["version"] }),
        new FileChange({ path: "test/a.test.ts", status: "A" })
      ],
      configFiles: ["spec-orch.toml", "gate.policy.yaml"],
      preview: {
        required: true,
        passed: true,
        url: "http://localhost:4173",
        step: new StepResult({
          name: "preview",
          outcome: "passed",
          command: ["sh", "-c", "true"],
          exitCode: 0,
          durationMs: 5,
          outputTail: ""
        })
      }
    })
    const json = Schema.encodeSync(Schema.fromJsonString(EvidenceBundle))(bundle)
    assert.deepStrictEqual(Schema.decodeSync(Schema.fromJsonString(EvidenceBundle))(json), bundle)
    assert.throws(() =>
      Schema.decodeUnknownSync(EvidenceBundle)({
        schemaVersion: 1,
        issueId: "x",
        fileChanges: [{ path: "a", status: "R" }]
      })
    )
  })
})
