import { assert, describe, it } from "@effect/vitest"
import { defaultConfig, type SpecOrchConfig } from "@spec-orch/contract"
import { Deferred, Effect, Fiber, Layer } from "effect"
import { TestClock } from "effect/testing"
import { processesIn } from "@spec-orch/test-kit"
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { confine } from "../src/internal/confine.js"
import { type AgentRequest, Agents } from "../src/index.js"
import { Unboxed } from "./utils/layers.js"

const AgentsLive = Agents.layer.pipe(Layer.provide(Unboxed))

// A scripted ACP agent (real protocol, real SDK, its own process); its prompt is a JSON plan.
const AGENT = `node ${join(import.meta.dirname, "fixtures", "acp-agent.mjs")}`

const world = () => {
  const root = mkdtempSync(join(tmpdir(), "spec-orch-acp-"))
  const cwd = join(root, "worktree")
  const outside = join(root, "outside")
  mkdirSync(join(cwd, ".git"), { recursive: true })
  mkdirSync(outside)
  writeFileSync(join(outside, "secret.txt"), "secret")
  writeFileSync(join(cwd, "notes.txt"), "inside")
  symlinkSync(outside, join(cwd, "escape"))
  return { root, cwd, outside, runDir: join(root, "run") }
}

const builder = (over: Partial<SpecOrchConfig["builder"]> = {}): SpecOrchConfig["builder"] => ({
  ...defaultConfig().builder,
  adapter: "acp",
  agent: AGENT,
  timeout_seconds: 60,
  ...over
})

const runPlan = (w: ReturnType<typeof world>, plan: unknown, over: Partial<AgentRequest> = {}) =>
  Effect.gen(function* () {
    const agents = yield* Agents
    return yield* agents.run({
      adapter: "acp",
      cwd: w.cwd,
      runDir: w.runDir,
      prompt: JSON.stringify(plan),
      builder: builder(),
      ...over
    })
  }).pipe(Effect.provide(AgentsLive))

describe("ACP fs methods are confined to the worktree", () => {
  it.live("writes inside the worktree and refuses '..', absolute paths outside, symlink escapes and .git", () =>
    Effect.gen(function* () {
      const w = world()
      const writes = [
        "inside.txt",
        join(w.cwd, "sub", "new.txt"),
        join(w.cwd, "..", "outside", "dotdot.txt"),
        join(w.outside, "absolute.txt"),
        join(w.cwd, "escape", "via-link.txt"),
        join(w.cwd, ".git", "config")
      ]
      const outcome = yield* runPlan(w, {
        writes,
        reads: [join(w.cwd, "notes.txt"), join(w.cwd, "escape", "secret.txt")]
      })
      assert.strictEqual(outcome.kind, "completed")
      assert.strictEqual(readFileSync(join(w.cwd, "inside.txt"), "utf8"), "written by the agent\n")
      assert.strictEqual(readFileSync(join(w.cwd, "sub", "new.txt"), "utf8"), "written by the agent\n")
      for (const f of ["dotdot.txt", "absolute.txt", "via-link.txt"])
        assert.isFalse(existsSync(join(w.outside, f)), `${f} must not be written outside`)
      assert.isFalse(existsSync(join(w.cwd, ".git", "config")))
      assert.deepStrictEqual(outcome.filesChanged, ["inside.txt", "sub/new.txt"])

      const said = outcome.finalText!.split("\n")
      assert.strictEqual(said[0], "write inside.txt: ok")
      assert.strictEqual(said[1], `write ${join(w.cwd, "sub", "new.txt")}: ok`)
      for (const line of said.slice(2, 6)) assert.match(line, /: refused \(/)
      assert.strictEqual(said[6], `read ${join(w.cwd, "notes.txt")}: "inside"`)
      assert.match(said[7]!, /^read .*secret\.txt: refused \(/)
      const events = readFileSync(join(w.runDir, "events.jsonl"), "utf8")
      assert.include(
        events,
        `refused fs/write_text_file: \\"${join(w.outside, "absolute.txt")}\\" is outside the worktree`
      )
      assert.include(events, "outside the worktree (through a symlink)")
    })
  )
})

describe("ACP permission requests", () => {
  it.live("are answered from the policy: edits inside allowed, outside denied", () =>
    Effect.gen(function* () {
      const w = world()
      const inside = yield* runPlan(w, { permission: { kind: "edit", path: join(w.cwd, "a.txt") } })
      assert.include(inside.finalText!, "permission: yes")
      const outside = yield* runPlan(world(), { permission: { kind: "edit", path: "/etc/passwd" } })
      assert.include(outside.finalText!, "permission: no")
    })
  )

  it.live("deny edits when [builder] permissions only approves reads", () =>
    Effect.gen(function* () {
      const w = world()
      const outcome = yield* runPlan(
        w,
        { permission: { kind: "edit", path: join(w.cwd, "a.txt") } },
        { builder: builder({ permissions: "approve-reads" }) }
      )
      assert.include(outcome.finalText!, "permission: no")
      assert.include(readFileSync(join(w.runDir, "events.jsonl"), "utf8"), "permission denied for Edit")
    })
  )
})

describe("ACP turn end", () => {
  it.live("maps the plan, usage and stop reason end_turn to a completed outcome with the session id", () =>
    Effect.gen(function* () {
      const outcome = yield* runPlan(world(), {})
      assert.strictEqual(outcome.kind, "completed")
      assert.strictEqual(outcome.sessionId, "session-1")
      assert.strictEqual(outcome.usage.costUsd, 0.01)
    })
  )

  it.live("fails on another stop reason", () =>
    Effect.gen(function* () {
      const outcome = yield* runPlan(world(), { stopReason: "max_tokens" })
      assert.strictEqual(outcome.kind, "failed")
      assert.strictEqual(outcome.message, "the agent stopped with max_tokens")
    })
  )

  it.live("cancels with session/cancel, then kills the agent", () =>
    Effect.gen(function* () {
      const w = world()
      const seen = yield* Deferred.make<void>()
      const outcome = yield* runPlan(
        w,
        { hang: true },
        {
          onEvent: (e) => (e._tag === "plan" ? Deferred.succeed(seen, undefined).pipe(Effect.asVoid) : Effect.void),
          cancel: Deferred.await(seen)
        }
      )
      assert.strictEqual(outcome.kind, "cancelled")
      // The agent answered the prompt with stopReason "cancelled": it got session/cancel before being killed.
      assert.include(readFileSync(join(w.runDir, "agent.jsonl"), "utf8"), `"stopReason":"cancelled"`)
      assert.isTrue(existsSync(join(w.cwd, "agent.pid")))
      assert.deepStrictEqual(processesIn(w.cwd), [])
    })
  )

  it.effect("times out an agent that ignores session/cancel and kills it (time from the Clock)", () =>
    Effect.gen(function* () {
      const w = world()
      const started = yield* Deferred.make<void>()
      const fiber = yield* runPlan(
        w,
        { ignoreCancel: true },
        {
          builder: builder({ timeout_seconds: 3 }),
          onEvent: () => Deferred.succeed(started, undefined).pipe(Effect.asVoid)
        }
      ).pipe(Effect.forkChild)
      yield* Deferred.await(started)
      yield* TestClock.adjust("2999 millis")
      assert.isUndefined(fiber.pollUnsafe(), "still running just before the deadline")
      yield* TestClock.adjust("1 millis")
      const outcome = yield* Fiber.join(fiber)
      assert.strictEqual(outcome.kind, "timed_out")
      assert.deepStrictEqual(processesIn(w.cwd), [])
    })
  )
})

describe("confine", () => {
  it("accepts paths inside the worktree, absolute or relative, existing or not", () => {
    const w = world()
    const a = confine(w.cwd, join(w.cwd, "notes.txt"))
    assert.isTrue(a.ok)
    const b = confine(w.cwd, "deep/new/file.ts")
    assert.deepStrictEqual(b.ok && b.relative, "deep/new/file.ts")
  })

  it("refuses escapes and says how", () => {
    const w = world()
    const reason = (p: string) => {
      const c = confine(w.cwd, p)
      return c.ok ? "accepted" : c.reason
    }
    assert.strictEqual(reason("../x"), `"../x" contains "..", which is not allowed`)
    assert.strictEqual(reason("/etc/passwd"), `"/etc/passwd" is outside the worktree ${w.cwd}`)
    assert.match(
      reason(join(w.cwd, "escape", "secret.txt")),
      /resolves to .*outside\/secret\.txt, outside the worktree \(through a symlink\)$/
    )
    assert.strictEqual(
      reason(join(w.cwd, ".git", "HEAD")),
      `"${join(w.cwd, ".git", "HEAD")}" is inside .git, which agents may not touch`
    )
    symlinkSync(join(w.outside, "not-yet"), join(w.cwd, "dangling"))
    assert.match(reason(join(w.cwd, "dangling")), /broken symlink|outside the worktree/)
  })
})
