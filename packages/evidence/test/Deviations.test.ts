import { assert, describe, it } from "@effect/vitest"
import { Footprint } from "@spec-orch/contract"
import { detectDeviations, deviationBlocks, matchesEntry } from "../src/index.js"

describe("footprint entries", () => {
  it("match paths, directory prefixes and globs", () => {
    assert.isTrue(matchesEntry("src/api/", "src/api/login.ts"))
    assert.isFalse(matchesEntry("src/api/", "src/apis/x.ts"))
    assert.isTrue(matchesEntry("src/api", "src/api/deep/x.ts"), "a path names the directory too")
    assert.isFalse(matchesEntry("src/api.ts", "src/api.tsx"))
    assert.isTrue(matchesEntry("./src/api.ts", "src/api.ts"))
    assert.isTrue(matchesEntry("test/**/*.test.ts", "test/api/login.test.ts"))
    assert.isTrue(matchesEntry("test/**/*.test.ts", "test/login.test.ts"))
    assert.isFalse(matchesEntry("test/**/*.test.ts", "test/api/login.ts"))
    assert.isTrue(matchesEntry(".github/**", ".github/workflows/ci.yml"))
    assert.isTrue(matchesEntry("src/{a,b}.ts", "src/b.ts"))
  })
})

describe("detectDeviations", () => {
  const footprint = new Footprint({
    allowed: ["src/api/", "test/**/*.test.ts"],
    forbidden: [".github/**", "src/api/secrets.ts"]
  })

  it("gives one deviation per file outside the footprint, with the documented severities", () => {
    const found = detectDeviations(
      [
        "src/api/login.ts",
        "src/db/schema.sql",
        "pnpm-lock.yaml",
        "src/api/secrets.ts",
        ".changeset/x.md",
        "src/db/schema.sql"
      ],
      footprint
    )
    assert.deepStrictEqual(
      found.map((d) => [d.filePath, d.severity, d.resolution, d.detectedBy]),
      [
        ["src/db/schema.sql", "major", "pending", "gate/scope_check"],
        ["pnpm-lock.yaml", "minor", "pending", "gate/scope_check"],
        ["src/api/secrets.ts", "blocking", "pending", "gate/scope_check"],
        [".changeset/x.md", "minor", "pending", "gate/scope_check"]
      ]
    )
    assert.strictEqual(
      found[0]!.description,
      "src/db/schema.sql changed outside the declared footprint (allowed: src/api/, test/**/*.test.ts)"
    )
    assert.strictEqual(
      found[2]!.description,
      "src/api/secrets.ts is a forbidden path for this change (forbidden: .github/**, src/api/secrets.ts)"
    )
  })

  it("is deterministic: the same file gets the same id", () => {
    const [a] = detectDeviations(["src/db/schema.sql"], footprint)
    const [b] = detectDeviations(["./src/db/schema.sql"], footprint)
    assert.match(a!.id, /^dev-[0-9a-f]{8}$/)
    assert.strictEqual(a!.id, b!.id)
  })

  it("checks only forbidden paths when no footprint is declared", () => {
    const open = new Footprint({ allowed: [], forbidden: [".env"] })
    assert.deepStrictEqual(
      detectDeviations(["anything/at/all.ts", ".env"], open).map((d) => [d.filePath, d.severity]),
      [[".env", "blocking"]]
    )
  })

  it("lets the policy decide which severities block, and only while pending", () => {
    const [major] = detectDeviations(["src/db/schema.sql"], footprint)
    assert.isTrue(deviationBlocks(major!, ["major", "blocking"]))
    assert.isFalse(deviationBlocks(major!, ["blocking"]))
    assert.isFalse(deviationBlocks({ ...major!, resolution: "accepted" }, ["major"]))
  })
})
