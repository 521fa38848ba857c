import { assert, describe, it } from "@effect/vitest"
import { spawnSync } from "node:child_process"
import { createRequire } from "node:module"
import { dirname, join } from "node:path"

const fixture = join(import.meta.dirname, "fixtures/unrun-effect")
const vitest = join(dirname(createRequire(import.meta.url).resolve("vitest/package.json")), "vitest.mjs")

describe("the shared vitest setup", () => {
  it("fails a plain it whose callback returns an Effect, Layer or Stream, and says to use it.effect", () => {
    const r = spawnSync(process.execPath, [vitest, "run", "--reporter=json"], { cwd: fixture, encoding: "utf8", env: { ...process.env, FORCE_COLOR: "0" } })
    assert.strictEqual(r.status, 1, r.stderr)
    const report = JSON.parse(r.stdout.slice(r.stdout.indexOf("{"))) as {
      testResults: Array<{ assertionResults: Array<{ title: string; status: string; failureMessages: Array<string> }> }>
    }
    const results = report.testResults.flatMap((f) => f.assertionResults)
    assert.deepStrictEqual(results.map((t) => [t.title, t.status]), [
      ["returns an Effect.gen", "failed"],
      ["returns a piped Effect", "failed"],
      ["returns a Layer", "failed"],
      ["returns a Stream", "failed"],
      ["is a plain synchronous test", "passed"],
      ["is an async test", "passed"],
      ["is an it.effect test", "passed"]
    ])
    const message = results[0]!.failureMessages.join("\n")
    assert.include(message, `test "returns an Effect.gen" returned an Effect that vitest never runs, so none of its assertions ran`)
    assert.include(message, `Write it as it.effect("…", () => …) from @effect/vitest`)
    assert.include(results[2]!.failureMessages.join("\n"), "returned a Layer")
    assert.include(results[3]!.failureMessages.join("\n"), "returned a Stream")
  })
})
