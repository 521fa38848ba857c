/**
 * The test runner of every package (see vitest.shared.ts): vitest's own, plus one check. vitest awaits
 * what a test callback returns only when it is a promise; an Effect returned from a plain
 * `it("…", () => effect)` is dropped unrun, and the test passes without executing a line of it. Here
 * such a test fails and says how to fix it (use `it.effect`, or run the Effect inside the test).
 */
import { Effect, Layer, Stream } from "effect"
import { type RunnerTestCase, TestRunner } from "vitest"

/** What a returned value is when it is an Effect data type vitest would silently drop; else undefined. */
const unrunKind = (value: unknown): string | undefined =>
  Effect.isEffect(value)
    ? "an Effect"
    : Layer.isLayer(value)
      ? "a Layer"
      : Stream.isStream(value)
        ? "a Stream"
        : undefined

export default class EffectAwareRunner extends TestRunner {
  async runTask(test: RunnerTestCase): Promise<void> {
    const fn = TestRunner.getTestFn(test)
    if (fn === undefined) throw new Error(`test "${test.name}" has no function to run`)
    const result: unknown = await fn()
    const kind = unrunKind(result)
    if (kind !== undefined) {
      throw new Error(
        `test "${test.name}" returned ${kind} that vitest never runs, so none of its assertions ran. ` +
          `Write it as it.effect("…", () => …) from @effect/vitest, or run the value inside the test.`
      )
    }
  }
}
