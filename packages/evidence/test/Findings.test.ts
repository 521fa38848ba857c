import { assert, describe, it } from "@effect/vitest"
import { findingFingerprint } from "@spec-orch/contract"
import { makeFinding, mergeFindings, resolveFinding } from "../src/index.js"

describe("findings", () => {
  const input = {
    source: "coderabbit",
    description: "token logged",
    severity: "blocking" as const,
    filePath: "src/a.ts",
    line: 3
  }

  it("use the original's fingerprint and derive the id from it", () => {
    const f = makeFinding(input, "2026-11-25T10:00:00.000Z")
    assert.strictEqual(f.fingerprint, findingFingerprint(input))
    assert.match(f.fingerprint, /^[0-9a-f]{16}$/)
    assert.strictEqual(f.id, `f-${f.fingerprint.slice(0, 8)}`)
    assert.deepStrictEqual([f.severity, f.scope, f.confidence, f.resolved], ["blocking", "in_spec", 0.5, false])
    assert.strictEqual(makeFinding({ source: "x", description: "y" }, "t").severity, "advisory")
    assert.throws(() => makeFinding({ ...input, confidence: 2 }, "t"), /between 0 and 1/)
  })

  it("are recorded once per fingerprint, and a resolution survives a re-report", () => {
    const first = resolveFinding(makeFinding(input, "t1"), "ada")
    const again = makeFinding(input, "t2")
    const other = makeFinding({ ...input, line: 4 }, "t2")
    const merged = mergeFindings([first], [again, other, other])
    assert.deepStrictEqual(
      merged.map((f) => [f.id, f.resolved, f.resolvedBy ?? null]),
      [
        [first.id, true, "ada"],
        [other.id, false, null]
      ]
    )
  })
})
