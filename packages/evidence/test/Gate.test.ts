import { assert, describe, it } from "@effect/vitest"
import {
  EvidenceBundle,
  FileChange,
  Footprint,
  type GateVerdict,
  SecretFinding,
  SpecEvidence,
  StepResult
} from "@spec-orch/contract"
import { Effect, Result } from "effect"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import {
  ConditionRegistry,
  defaultGatePolicy,
  ENFORCED_CONDITIONS,
  evaluate,
  failed,
  Gate,
  loadGatePolicy,
  makeFinding,
  notJudgeable,
  passed,
  resolveFinding,
  UnknownProfile,
  verdictHeadline
} from "../src/index.js"
import { goodBundle, without } from "./utils/evidence.js"

const original = Result.getOrThrow(
  loadGatePolicy(
    readFileSync(join(import.meta.dirname, "fixtures", "original.gate.policy.yaml"), "utf8"),
    "gate.policy.yaml"
  )
)
const statuses = (v: GateVerdict) =>
  Object.fromEntries(
    v.conditions.map((c) => [c.condition, `${c.status}${c.required || c.status === "disabled" ? "" : " (advisory)"}`])
  )

/** A finished unattended run: everything is there except a human's acceptance. */
const unattended = () => without(goodBundle(), "acceptance")
const blockingFinding = makeFinding(
  {
    source: "coderabbit",
    description: "token logged in plain text",
    severity: "blocking",
    filePath: "src/api/login.ts",
    line: 9
  },
  "t"
)

describe("evaluate with the original's policy", () => {
  it("as written: every required condition must pass; no acceptance yet is 'could not judge', not a failure", () => {
    const v = evaluate(original, null, unattended())
    assert.isFalse(v.mergeable)
    assert.isFalse(v.autoMergeable)
    assert.deepStrictEqual(v.failed, [])
    assert.deepStrictEqual(v.notJudgeable, ["human_acceptance"])
    assert.strictEqual(verdictHeadline(v), "BLOCKED (could not judge: human_acceptance)")
    assert.deepStrictEqual(statuses(v), {
      spec_exists: "passed",
      spec_approved: "passed",
      within_boundaries: "passed",
      builder: "passed",
      verification: "passed",
      review: "passed",
      preview: "passed (advisory)",
      human_acceptance: "not_judgeable",
      findings: "passed (advisory)",
      compliance: "passed (advisory)",
      protected_paths: "passed",
      secrets: "passed"
    })
    assert.isTrue(evaluate(original, null, goodBundle()).mergeable)
    assert.isFalse(evaluate(original, null, goodBundle()).autoMergeable, "auto_merge: false")
  })

  it("daemon: no human acceptance; auto-merge once builder, verification, review and findings passed", () => {
    const v = evaluate(original, "daemon", unattended())
    assert.isTrue(v.mergeable)
    assert.isTrue(v.autoMergeable)
    assert.strictEqual(statuses(v).human_acceptance, "disabled")
    const blocked = evaluate(original, "daemon", goodBundle({ findings: [blockingFinding] }))
    assert.isTrue(blocked.mergeable, "findings is advisory in the daemon profile")
    assert.isFalse(blocked.autoMergeable, "but it is an auto-merge condition")
  })

  it("ci: findings required, no human acceptance or preview, never auto-merges", () => {
    const v = evaluate(original, "ci", unattended())
    assert.isTrue(v.mergeable)
    assert.isFalse(v.autoMergeable)
    assert.deepStrictEqual(
      [statuses(v).findings, statuses(v).preview, statuses(v).human_acceptance],
      ["passed", "disabled", "disabled"]
    )
    const blocked = evaluate(original, "ci", goodBundle({ findings: [blockingFinding] }))
    assert.deepStrictEqual(blocked.failed, ["findings"])
    assert.strictEqual(
      blocked.conditions.find((c) => c.condition === "findings")!.reason,
      `1 unresolved blocking finding: ${blockingFinding.id} (src/api/login.ts:9)`
    )
  })

  it("strict: preview, findings and compliance required, and human acceptance still", () => {
    const v = evaluate(original, "strict", without(goodBundle(), "preview"))
    assert.isFalse(v.mergeable)
    assert.deepStrictEqual(v.notJudgeable, ["preview"])
    assert.deepStrictEqual([statuses(v).findings, statuses(v).compliance], ["passed", "passed"])
    assert.deepStrictEqual(evaluate(original, "strict", unattended()).notJudgeable, ["human_acceptance"])
    assert.isTrue(evaluate(original, "strict", goodBundle()).mergeable)
  })

  it("hotfix: builder, verification and review only; auto-merges without a spec or acceptance", () => {
    const noSpec = without(unattended(), "spec", "compliance")
    const v = evaluate(original, "hotfix", noSpec)
    assert.isTrue(v.mergeable)
    assert.isTrue(v.autoMergeable)
    assert.deepStrictEqual(
      v.conditions.filter((c) => c.status === "disabled").map((c) => c.condition),
      ["spec_exists", "spec_approved", "within_boundaries", "human_acceptance", "findings", "compliance"]
    )
    assert.isFalse(evaluate(original, null, noSpec).mergeable)
  })

  it("reports what would unblock each condition that did not pass", () => {
    const v = evaluate(
      original,
      null,
      goodBundle({ spec: new SpecEvidence({ exists: true, state: "unapproved", unresolvedBlockingQuestions: 0 }) })
    )
    assert.deepStrictEqual(v.failed, ["spec_approved"])
    assert.strictEqual(
      v.conditions.find((c) => c.condition === "spec_approved")!.unblock,
      "approve it: spec-orch spec approve SPC-7"
    )
    assert.isUndefined(v.conditions.find((c) => c.condition === "builder")!.unblock)
  })

  it("names an unknown profile with a did-you-mean", () => {
    assert.throws(
      () => evaluate(original, "stict", goodBundle()),
      /unknown gate profile "stict" in gate\.policy\.yaml \(did you mean "strict"\?\)/
    )
    assert.throws(
      () => evaluate(defaultGatePolicy(), "nightly", goodBundle()),
      /unknown gate profile "nightly" in built-in \(profiles in this policy: daemon, ci, strict, hotfix, unattended\)/
    )
  })

  it("is pure: the same input gives the same verdict, and neither policy nor evidence changes", () => {
    const bundle = goodBundle()
    const before = [JSON.stringify(bundle), JSON.stringify({ ...original, registry: undefined })]
    const a = evaluate(original, "ci", bundle)
    const b = evaluate(original, "ci", bundle)
    assert.deepStrictEqual(JSON.stringify(a), JSON.stringify(b))
    assert.deepStrictEqual([JSON.stringify(bundle), JSON.stringify({ ...original, registry: undefined })], before)
  })
})

describe("evaluate with the built-in policy", () => {
  it("blocks a change that adds a secret under every profile, auto-merging ones included", () => {
    const leak = goodBundle({
      secrets: [
        new SecretFinding({
          file: "src/config.ts",
          line: 3,
          rule: "@secretlint/secretlint-rule-github",
          message: "found GitHub Token"
        })
      ]
    })
    for (const profile of [null, "daemon", "ci", "strict", "hotfix"]) {
      const v = evaluate(defaultGatePolicy(), profile, leak)
      assert.isFalse(v.mergeable, String(profile))
      assert.isFalse(v.autoMergeable, String(profile))
      assert.include(v.failed, "secrets", String(profile))
    }
    assert.deepStrictEqual(evaluate(defaultGatePolicy(), "hotfix", without(goodBundle(), "secrets")).notJudgeable, [
      "secrets"
    ])
  })
})

describe("conditions an embedder registers", () => {
  const registry = ConditionRegistry.builtin
    .register({
      name: "license_headers",
      description: "Every changed source file carries the license header",
      judge: (e) => {
        const missing = (e.extensions?.license_headers as { missing?: Array<string> } | undefined)?.missing
        if (missing === undefined) return notJudgeable("no license scan ran", "run the license scanner")
        return missing.length === 0
          ? passed("all files have headers")
          : failed(`missing in ${missing.join(", ")}`, "add the header")
      }
    })
    .register({
      name: "flaky",
      description: "throws",
      judge: () => {
        throw new Error("boom")
      }
    })
    .register({ name: "sloppy", description: "returns junk", judge: () => ({ status: "ok" }) as never })
  const policy = Result.getOrThrow(
    loadGatePolicy("conditions:\n  builder: {}\n  license_headers: {}\n", "embedded.yaml", registry)
  )
  const withScan = (missing?: Array<string>) =>
    goodBundle(missing === undefined ? {} : { extensions: { license_headers: { missing } } })

  it("judge the evidence the embedder put under extensions", () => {
    assert.isTrue(evaluate(policy, null, withScan([])).mergeable)
    const v = evaluate(policy, null, withScan(["src/a.ts"]))
    assert.deepStrictEqual([v.failed, v.conditions[1]!.reason], [["license_headers"], "missing in src/a.ts"])
    assert.deepStrictEqual(evaluate(policy, null, withScan()).notJudgeable, ["license_headers"])
  })

  it("fail, never pass, when they throw or return nonsense", () => {
    const risky = Result.getOrThrow(loadGatePolicy("conditions:\n  flaky: {}\n  sloppy: {}\n", "risky.yaml", registry))
    const v = evaluate(risky, null, goodBundle())
    assert.deepStrictEqual(v.failed, ["flaky", "sloppy"])
    assert.strictEqual(v.conditions[0]!.reason, "the condition crashed: boom")
    assert.match(v.conditions[1]!.reason, /invalid judgement/)
  })
})

describe("Gate", () => {
  it.effect("evaluates with its default profile, or the one given", () =>
    Effect.gen(function* () {
      const gate = yield* Gate
      const bundle: EvidenceBundle = unattended()
      assert.isTrue((yield* gate.evaluate(bundle)).mergeable)
      assert.strictEqual((yield* gate.evaluate(bundle)).profile, "daemon")
      assert.isFalse((yield* gate.evaluate(bundle, null)).mergeable)
      const error = yield* Effect.flip(gate.evaluate(bundle, "stict"))
      assert.instanceOf(error, UnknownProfile)
      assert.strictEqual(error.message, 'unknown gate profile "stict" in gate.policy.yaml (did you mean "strict"?)')
    }).pipe(Effect.provide(Gate.layerFrom(original, "daemon")))
  )

  it.effect("plans a run before any evidence exists: the profile's conditions, or the reason it cannot judge", () =>
    Effect.gen(function* () {
      const gate = yield* Gate
      const plan = yield* gate.plan()
      assert.strictEqual(plan.profile, "daemon")
      assert.isTrue(plan.conditions.find((c) => c.name === "human_acceptance")!.disabled)
      assert.isTrue(plan.conditions.find((c) => c.name === "protected_paths")!.required)
      assert.strictEqual(
        (yield* Effect.flip(gate.plan("nope"))).message,
        'unknown gate profile "nope" in gate.policy.yaml (profiles in this policy: daemon, ci, strict, hotfix, unattended)'
      )
    }).pipe(Effect.provide(Gate.layerFrom(original, "daemon")))
  )
})

describe("enforced conditions, hotfix and deviations with the original's gate.policy.yaml, loaded unchanged", () => {
  const compatText = readFileSync(join(import.meta.dirname, "fixtures", "compat", "gate.policy.yaml"), "utf8")
  const compat = Result.getOrThrow(loadGatePolicy(compatText, "gate.policy.yaml"))
  /** An unattended run whose agent edited an existing test the issue does not name. */
  const editedTest = () =>
    new EvidenceBundle({
      ...unattended(),
      fileChanges: [
        new FileChange({ path: "src/api/login.ts", status: "M" }),
        new FileChange({ path: "test/api/session.test.ts", status: "M" })
      ],
      changedFiles: ["src/api/login.ts", "test/api/session.test.ts"],
      footprint: new Footprint({ allowed: ["src/api/"], forbidden: [] })
    })

  it("requires protected_paths in every profile, though the file never names it", () => {
    for (const profile of [null, "daemon", "ci", "strict", "hotfix"]) {
      const v = evaluate(compat, profile, editedTest())
      assert.isFalse(v.mergeable, String(profile))
      assert.include(v.failed, "protected_paths", String(profile))
      assert.isTrue(v.conditions.find((c) => c.condition === "protected_paths")!.required, String(profile))
    }
    assert.isTrue(
      evaluate(compat, "hotfix", without(unattended(), "spec", "compliance")).mergeable,
      "an ordinary hotfix still passes"
    )
  })

  it("is switched off only by an explicit `required: false` in the file or a profile that disables it by name", () => {
    const optedOut = Result.getOrThrow(
      loadGatePolicy(
        compatText.replace("auto_merge: false", "  protected_paths:\n    required: false\n\nauto_merge: false"),
        "gate.policy.yaml"
      )
    )
    const v = evaluate(optedOut, "daemon", editedTest())
    assert.isTrue(v.mergeable)
    assert.strictEqual(statuses(v).protected_paths, "failed (advisory)")
    const disabled = Result.getOrThrow(
      loadGatePolicy(
        compatText.replace("  hotfix:\n    disable:\n", "  hotfix:\n    disable:\n      - protected_paths\n"),
        "gate.policy.yaml"
      )
    )
    assert.strictEqual(statuses(evaluate(disabled, "hotfix", editedTest())).protected_paths, "disabled")
    assert.deepStrictEqual(
      evaluate(disabled, "daemon", editedTest()).failed,
      ["protected_paths"],
      "other profiles keep it"
    )
  })

  it("applies to every enforced condition the registry knows, by name (secrets, when registered)", () => {
    const registry = ConditionRegistry.builtin.register(
      {
        name: "secrets",
        description: "The diff adds no secret",
        judge: (e) =>
          (e.extensions?.secrets as Array<string> | undefined)?.length
            ? failed("a secret in src/a.ts:3", "remove it")
            : passed("no secrets")
      },
      { replace: true }
    )
    const withSecrets = Result.getOrThrow(loadGatePolicy(compatText, "gate.policy.yaml", registry))
    assert.deepStrictEqual(
      withSecrets.conditions.filter((c) => c.enforced).map((c) => c.name),
      ["protected_paths", "secrets"]
    )
    assert.deepStrictEqual(evaluate(withSecrets, "hotfix", goodBundle({ extensions: { secrets: ["AKIA…"] } })).failed, [
      "secrets"
    ])
    const known = ENFORCED_CONDITIONS.filter((name) => ConditionRegistry.builtin.get(name) !== undefined)
    assert.deepStrictEqual(
      compat.conditions.filter((c) => c.enforced).map((c) => c.name),
      known,
      "only names the registry knows are enforced"
    )
    const bare = Result.getOrThrow(
      loadGatePolicy("conditions:\n  builder: {}\n", "embedded.yaml", ConditionRegistry.builtin)
    )
    assert.deepStrictEqual(
      bare.conditions.map((c) => c.name),
      ["builder", ...known]
    )
  })

  it("hotfix never auto-merges with an open blocking finding, though it disables findings", () => {
    const clean = evaluate(compat, "hotfix", unattended())
    assert.isTrue(clean.autoMergeable)
    const v = evaluate(compat, "hotfix", goodBundle({ findings: [blockingFinding] }))
    assert.isTrue(v.mergeable, "findings is disabled, so the change is mergeable")
    assert.isFalse(v.autoMergeable, "but an unresolved blocking finding is never auto-merged")
    const resolved = evaluate(compat, "hotfix", goodBundle({ findings: [resolveFinding(blockingFinding, "dana")] }))
    assert.isTrue(resolved.autoMergeable)
  })

  it("blocks minor deviations, as the original does; the built-in policy lets them pass", () => {
    const lockfileOnly = new EvidenceBundle({
      ...goodBundle(),
      deviations: [],
      changedFiles: ["src/api/login.ts", "pnpm-lock.yaml"],
      footprint: new Footprint({ allowed: ["src/api/"], forbidden: [] })
    })
    const bundle = without(lockfileOnly, "deviations")
    const v = evaluate(compat, null, bundle)
    assert.deepStrictEqual(v.failed, ["within_boundaries"])
    assert.match(v.conditions.find((c) => c.condition === "within_boundaries")!.reason, /pnpm-lock\.yaml \(minor\)/)
    assert.isTrue(evaluate(defaultGatePolicy(), null, bundle).mergeable)
    const relaxed = Result.getOrThrow(
      loadGatePolicy(`${compatText}\ndeviations:\n  block_on: [major, blocking]\n`, "gate.policy.yaml")
    )
    assert.isTrue(evaluate(relaxed, null, bundle).mergeable, "unless the file says otherwise")
  })

  it("strict passes once a [preview] command recorded a passing preview", () => {
    const ran = (outcome: "passed" | "failed") =>
      goodBundle({
        preview: {
          required: true,
          step: new StepResult({
            name: "preview",
            outcome,
            command: ["sh", "-c", "curl -f localhost:4173"],
            exitCode: outcome === "passed" ? 0 : 7,
            durationMs: 900,
            outputTail: ""
          })
        }
      })
    assert.isTrue(evaluate(compat, "strict", ran("passed")).mergeable)
    assert.deepStrictEqual(evaluate(compat, "strict", ran("failed")).failed, ["preview"])
    const none = evaluate(compat, "strict", without(goodBundle(), "preview"))
    assert.deepStrictEqual(none.notJudgeable, ["preview"])
    assert.match(none.conditions.find((c) => c.condition === "preview")!.unblock!, /\[preview\] command/)
  })
})
