import { assert, describe, it } from "@effect/vitest"
import { runFixture } from "./utils/fixtureSuites.js"

describe("the shared vitest runner", () => {
  it("fails a plain it whose callback returns an Effect, Layer or Stream, and says to use it.effect", () => {
    const { status, results } = runFixture("unrun-effect.fixture.ts")
    assert.strictEqual(status, 1)
    assert.deepStrictEqual(
      results.map((t) => [t.title, t.status]),
      [
        ["returns an Effect.gen", "failed"],
        ["returns a piped Effect", "failed"],
        ["returns a Layer", "failed"],
        ["returns a Stream", "failed"],
        ["is a plain synchronous test", "passed"],
        ["is an async test", "passed"],
        ["is an it.effect test", "passed"]
      ]
    )
    const message = results[0]!.failureMessages.join("\n")
    assert.include(
      message,
      `test "returns an Effect.gen" returned an Effect that vitest never runs, so none of its assertions ran`
    )
    assert.include(message, `Write it as it.effect("…", () => …) from @effect/vitest`)
    assert.include(results[2]!.failureMessages.join("\n"), "returned a Layer")
    assert.include(results[3]!.failureMessages.join("\n"), "returned a Stream")
  })
})
