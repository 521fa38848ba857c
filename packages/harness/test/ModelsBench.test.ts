/**
 * `pnpm bench` for model calls (bench/models.bench.ts), run small: it reports the call through the
 * chain and the bare fetch of the same request side by side, and the overhead against its target.
 */
import { assert, describe, it } from "@effect/vitest"
import { spawnSync } from "node:child_process"
import { join } from "node:path"

const root = join(import.meta.dirname, "../../..")

describe("models.bench", () => {
  it("prints the chain call, the bare-fetch floor of the same request and the overhead with its 5 ms target", () => {
    const r = spawnSync(join(root, "node_modules/.bin/tsx"), [join(import.meta.dirname, "../bench/models.bench.ts")], {
      cwd: root,
      encoding: "utf8",
      env: { ...process.env, MODELS_BENCH_RUNS: "8" },
      timeout: 120_000
    })
    assert.strictEqual(r.status, 0, r.stderr)
    const lines = r.stdout
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as { metric: string; value: number; unit: string; target?: string; note?: string })
    const metric = (name: string) => {
      const found = lines.find((l) => l.metric.startsWith(name))
      assert.isDefined(found, `${name} in:\n${r.stdout}`)
      assert.isTrue(Number.isFinite(found!.value) && found!.unit === "ms", JSON.stringify(found))
      return found!
    }
    const chain = metric("model call through chain + provider")
    const floor = metric("bare fetch of the same request")
    assert.isAbove(chain.value, 0)
    assert.isAbove(floor.value, 0)
    assert.match(floor.note!, /the same body and headers/)
    assert.strictEqual(metric("overhead per model call beyond the HTTP exchange").target, "< 5 ms")
    assert.strictEqual(metric("CPU overhead per model call").target, "< 5 ms")
    assert.notInclude(r.stdout, "usage ledger recorded", "every call was recorded in the ModelUsage in context")
  }, 150_000)
})
