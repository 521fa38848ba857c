/**
 * What the Proposals service must do on any database: the same cases run on SQLite (always) and on
 * Postgres (when SPEC_ORCH_PG_URL is set).
 */
import { assert, it } from "@effect/vitest"
import { policyContent, Redactor } from "@spec-orch/harness"
import { Effect, Exit, Layer, Option } from "effect"
import type { SqlClient } from "effect/sql"
import { TestClock } from "effect/testing"
import { type Actor, contentHash, inCanary, Proposals } from "../../src/index.js"

const SECRET = "sk-proposaltest-0123456789abcdef0123"
const evolver: Actor = { type: "system", id: "evolver:review-learning" }
const ana: Actor = { type: "human", id: "ana" }
const learning = {
  kind: "review-learning" as const,
  scope: "project",
  sources: { runIds: ["run-1", "run-2"] },
  content: "Update CHANGELOG.md in every change."
}

/** `test` is `it.effect` (TestClock) for both databases; a fresh database per test. */
export const proposalSuite = (
  fresh: Effect.Effect<Layer.Layer<SqlClient.SqlClient, unknown>>,
  test: typeof it.effect = it.effect
) => {
  const withProposals = <A, E>(body: Effect.Effect<A, E, Proposals>) =>
    Effect.flatMap(fresh, (db) =>
      body.pipe(
        Effect.provide(
          Proposals.layer.pipe(Layer.provide(Layer.mergeAll(db, Redactor.layerFrom({ OPENAI_API_KEY: SECRET }))))
        )
      )
    )

  test("a proposal walks proposed → validated → approved → active → rolled-back, each move an append-only row with who, why and when", () =>
    withProposals(
      Effect.gen(function* () {
        const proposals = yield* Proposals
        const p = yield* proposals.propose(learning, evolver, "2 failed runs missed the changelog")
        assert.strictEqual(p.state, "proposed")
        assert.strictEqual(p.contentHash, contentHash("review-learning", "project", learning.content))
        assert.strictEqual(p.id, `prop-${p.contentHash.slice(0, 12)}`)
        const again = yield* proposals.propose(learning, evolver, "seen again")
        assert.strictEqual(again.id, p.id, "the same content is the same proposal")
        yield* TestClock.adjust("1 minute")
        yield* proposals.transition(p.id, "validated", {
          actor: evolver,
          why: "replay: 4/4 passed with it, 0/4 without",
          detail: { p: 0.014 }
        })
        yield* proposals.transition(p.id, "approved", { actor: ana, why: "looks right" })
        yield* proposals.transition(p.id, "active", { actor: ana, why: "canary", canaryShare: 0.5 })
        assert.strictEqual(Option.getOrThrow(yield* proposals.get(p.id)).canaryShare, 0.5)
        const gone = yield* proposals.transition(p.id, "rolled-back", { actor: ana, why: "made builds slower" })
        assert.strictEqual(gone.state, "rolled-back")
        assert.strictEqual(gone.canaryShare, null)
        const history = yield* proposals.history(p.id)
        assert.deepStrictEqual(
          history.map((t) => [t.from, t.to, t.actor.id]),
          [
            [null, "proposed", "evolver:review-learning"],
            ["proposed", "validated", "evolver:review-learning"],
            ["validated", "approved", "ana"],
            ["approved", "active", "ana"],
            ["active", "rolled-back", "ana"]
          ]
        )
        assert.deepStrictEqual(history[1]!.detail, { p: 0.014 })
        assert.strictEqual(history[1]!.at, "1970-01-01T00:01:00.000Z")
        assert.strictEqual(history[4]!.why, "made builds slower")
      })
    ))

  test("an illegal move is refused with the state the proposal is in and the moves it allows; nothing is recorded", () =>
    withProposals(
      Effect.gen(function* () {
        const proposals = yield* Proposals
        const p = yield* proposals.propose(learning, evolver, "from evidence")
        const skip = yield* Effect.exit(proposals.transition(p.id, "approved", { actor: ana, why: "skip validation" }))
        assert.isTrue(Exit.isFailure(skip))
        const error = yield* Effect.flip(proposals.transition(p.id, "approved", { actor: ana, why: "skip validation" }))
        assert.strictEqual(error._tag, "IllegalTransition")
        assert.strictEqual(
          error.message,
          `proposals: ${p.id} is proposed and cannot become approved; from proposed it may only become validated or rejected`
        )
        yield* proposals.transition(p.id, "rejected", { actor: ana, why: "wrong" })
        const final = yield* Effect.flip(proposals.transition(p.id, "validated", { actor: evolver, why: "late" }))
        assert.include(final.message, "rejected is final")
        assert.strictEqual((yield* proposals.history(p.id)).length, 2)
        const missing = yield* Effect.flip(proposals.transition("prop-nope", "validated", { actor: evolver, why: "x" }))
        assert.strictEqual(missing._tag, "ProposalNotFound")
        assert.include(missing.message, "evolution proposals")
      })
    ))

  test("a prompt variant, policy or compliance rule is approved only by a person", () =>
    withProposals(
      Effect.gen(function* () {
        const proposals = yield* Proposals
        const p = yield* proposals.propose(
          { kind: "prompt-variant", scope: "project", content: "Be brief." },
          evolver,
          "variant"
        )
        yield* proposals.transition(p.id, "validated", { actor: evolver, why: "replay" })
        const refused = yield* Effect.flip(proposals.transition(p.id, "approved", { actor: evolver, why: "auto" }))
        assert.strictEqual(refused._tag, "HumanApprovalRequired")
        assert.include(refused.message, "only a person may approve")
        assert.strictEqual((yield* proposals.transition(p.id, "approved", { actor: ana, why: "ok" })).state, "approved")
        const r = yield* proposals.propose(
          { kind: "review-learning", scope: "project", content: "Run the linter." },
          evolver,
          "learning"
        )
        yield* proposals.transition(r.id, "validated", { actor: evolver, why: "replay" })
        assert.strictEqual(
          (yield* proposals.transition(r.id, "approved", { actor: evolver, why: "validated learning" })).state,
          "approved"
        )
      })
    ))

  test("a policy whose script holds a secret is refused, naming the kind of secret and never its value; nothing is stored", () =>
    withProposals(
      Effect.gen(function* () {
        const proposals = yield* Proposals
        const script = `printf '%s' '${SECRET}' > key.txt\n`
        const policy = { kind: "policy" as const, scope: "project", content: policyContent(["greeting"], script) }
        const refused = yield* Effect.flip(proposals.propose(policy, evolver, "distilled"))
        assert.strictEqual(refused._tag, "InvalidProposal")
        assert.include(refused.message, "script holds a secret (OPENAI_API_KEY)")
        assert.notInclude(refused.message, SECRET)
        assert.deepStrictEqual(yield* proposals.list(), [])
        // Other kinds are text: stored redacted.
        const text = yield* proposals.propose({ ...learning, content: script }, evolver, "leak")
        assert.include(text.content, "[redacted:OPENAI_API_KEY]")
      })
    ))

  test("runs use approved and promoted proposals, active ones for their canary share; secrets never reach the store", () =>
    withProposals(
      Effect.gen(function* () {
        const proposals = yield* Proposals
        const a = yield* proposals.propose({ ...learning, content: `Never print ${SECRET}.` }, evolver, "leak")
        assert.notInclude(a.content, SECRET)
        yield* proposals.transition(a.id, "validated", { actor: evolver, why: "ok" })
        yield* proposals.transition(a.id, "approved", { actor: ana, why: "ok" })
        const b = yield* proposals.propose({ ...learning, content: "Keep functions small." }, evolver, "b")
        yield* proposals.transition(b.id, "validated", { actor: evolver, why: "ok" })
        yield* proposals.transition(b.id, "approved", { actor: ana, why: "ok" })
        yield* proposals.transition(b.id, "active", { actor: ana, why: "canary", canaryShare: 0.3 })
        yield* proposals.propose({ ...learning, content: "Not yet validated." }, evolver, "c")
        const issues = Array.from({ length: 200 }, (_, i) => `SPC-${i}`)
        const reached = issues.filter((i) => inCanary(b.id, i, 0.3)).length
        assert.isTrue(reached > 40 && reached < 80, `about 30% of 200 issues, got ${reached}`)
        for (const issue of issues.slice(0, 20)) {
          const used = (yield* proposals.inUseFor(issue)).map((p) => p.id).sort()
          assert.deepStrictEqual(used, (inCanary(b.id, issue, 0.3) ? [a.id, b.id] : [a.id]).sort())
        }
        yield* proposals.transition(a.id, "rolled-back", { actor: ana, why: "stop" })
        assert.notInclude(
          (yield* proposals.inUseFor("SPC-1")).map((p) => p.id),
          a.id
        )
        const bad = yield* Effect.flip(proposals.transition(b.id, "active", { actor: ana, why: "x", canaryShare: 2 }))
        assert.strictEqual(bad._tag, "InvalidProposal")
        assert.include(bad.message, "canary share")
      })
    ))
}
