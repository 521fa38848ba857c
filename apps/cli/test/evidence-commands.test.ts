import { assert, describe, it } from "@effect/vitest"
import {
  AgentOutcome,
  AgentUsage,
  ComplianceReport,
  EvidenceBundle,
  Footprint,
  HumanAcceptance,
  ReviewVerdict,
  SpecEvidence,
  StepResult,
  VerificationReport
} from "@spec-orch/contract"
import { evaluate, evidenceJson, EvidenceLedger, loadGatePolicy, makeFinding } from "@spec-orch/evidence"
import { SqliteClient } from "@spec-orch/sqlite"
import { Deferred, Effect, Exit, Fiber, Layer, Result } from "effect"
import { TestClock } from "effect/testing"
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { cli } from "./cli.js"

const fixtures = join(import.meta.dirname, "../../../packages/evidence/test/fixtures")
// The token of the silent tracker below; set before any command runs, as the environment is read once per process.
process.env.EXPLAIN_SILENT_GH = "t-explain"

const DIFF = "a3f1c09e5b7d2e4f6a8c0b1d3e5f7a9c1b3d5e7f9a1c3e5b7d9f1a3c5e7b9d1f"

/** A project with the original's gate policy, one fixture issue, and no state yet. */
const project = (config = '[gate]\nprofile = "strict"\n') => {
  const dir = mkdtempSync(join(tmpdir(), "evidence-cli-"))
  writeFileSync(join(dir, "spec-orch.toml"), config)
  copyFileSync(join(fixtures, "original.gate.policy.yaml"), join(dir, "gate.policy.yaml"))
  mkdirSync(join(dir, "fixtures/issues"), { recursive: true })
  writeFileSync(
    join(dir, "fixtures/issues/SPC-7.json"),
    JSON.stringify({
      issue_id: "SPC-7",
      title: "Add a login endpoint",
      summary: "POST /login",
      acceptance_criteria: ["POST /login returns a token", "Wrong passwords get 401"],
      context: { files_to_read: ["src/api/"] }
    })
  )
  return dir
}

/** What a finished run of SPC-7 recorded: everything passed (its diff was scanned: no secret) except that nobody accepted it yet. */
const finishedRun = (patch: Partial<EvidenceBundle> = {}) =>
  new EvidenceBundle({
    schemaVersion: 1,
    issueId: "SPC-7",
    runId: "run-SPC-7-1-abc",
    spec: new SpecEvidence({ exists: true, state: "approved", unresolvedBlockingQuestions: 0 }),
    builder: new AgentOutcome({
      kind: "completed",
      adapter: "codex",
      usage: new AgentUsage({ inputTokens: 10, outputTokens: 5 }),
      durationMs: 5000,
      eventCount: 9,
      filesChanged: ["src/api/login.ts"],
      commandsRun: 2
    }),
    verification: new VerificationReport({
      steps: [
        new StepResult({
          name: "test",
          outcome: "passed",
          command: ["npm", "test"],
          exitCode: 0,
          durationMs: 900,
          outputTail: "ok"
        })
      ],
      startedAt: "2026-11-25T10:00:00.000Z",
      finishedAt: "2026-11-25T10:00:01.000Z"
    }),
    review: new ReviewVerdict({
      verdict: "pass",
      reviewedBy: "llm-reviewer",
      source: "llm",
      reviewedAt: "2026-11-25T10:01:00.000Z",
      summary: "ok",
      diffHash: DIFF
    }),
    findings: [],
    changedFiles: ["src/api/login.ts", "docs/notes.md"],
    footprint: new Footprint({ allowed: ["src/api/", "docs/"], forbidden: [] }),
    diffHash: DIFF,
    compliance: new ComplianceReport({
      compliant: true,
      errorCount: 0,
      warningCount: 0,
      contracts: [],
      violations: []
    }),
    preview: { required: false },
    secrets: [],
    ...patch
  })

/** Records `bundle` (judged with the original policy) in the project's ledger, as a run would. */
const seed = (dir: string, bundle: EvidenceBundle) =>
  Effect.gen(function* () {
    mkdirSync(join(dir, ".spec-orch"), { recursive: true })
    const policy = Result.getOrThrow(
      loadGatePolicy(readFileSync(join(dir, "gate.policy.yaml"), "utf8"), "gate.policy.yaml")
    )
    yield* EvidenceLedger.use((l) => l.record(bundle, evaluate(policy, "strict", bundle))).pipe(
      Effect.provide(
        EvidenceLedger.layer().pipe(Layer.provide(SqliteClient.layer({ filename: join(dir, ".spec-orch/state.db") })))
      )
    )
  })

describe("spec-orch gate evaluate --evidence (the CI path)", () => {
  it.effect("exits 0 when mergeable and 1 when blocked, without touching any state", () =>
    Effect.gen(function* () {
      const dir = project()
      writeFileSync(join(dir, "ok.json"), JSON.stringify(evidenceJson(finishedRun())))
      const ok = yield* cli("--cwd", dir, "gate", "evaluate", "SPC-7", "--evidence", "ok.json", "--profile", "ci")
      assert.strictEqual(ok.code, 0, ok.stderr)
      assert.match(ok.stdout, /^SPC-7: MERGEABLE\npolicy gate\.policy\.yaml, profile ci · auto-merge: no\n/)
      assert.match(ok.stdout, /\n {2}– human_acceptance {3}off {7}disabled by profile "ci"/)

      const blocked = yield* cli("--cwd", dir, "gate", "evaluate", "SPC-7", "--evidence", "ok.json")
      assert.strictEqual(blocked.code, 1)
      assert.match(
        blocked.stdout,
        /^SPC-7: BLOCKED \(could not judge: human_acceptance\)\npolicy gate\.policy\.yaml, profile strict/
      )
      assert.match(
        blocked.stdout,
        /\n {2}\? human_acceptance {3}required {2}no human has accepted this change yet\n +→ accept it: spec-orch accept-issue SPC-7 --accepted-by <you>\n/
      )
      assert.isFalse(existsSync(join(dir, ".spec-orch")), "the CI path opens no state database")

      // Evidence from a run that never scanned its diff for secrets cannot pass, whatever the profile.
      const { secrets: _, ...unscanned } = evidenceJson(finishedRun())
      writeFileSync(join(dir, "unscanned.json"), JSON.stringify(unscanned))
      const noScan = yield* cli(
        "--cwd",
        dir,
        "gate",
        "evaluate",
        "SPC-7",
        "--evidence",
        "unscanned.json",
        "--profile",
        "ci"
      )
      assert.strictEqual(noScan.code, 1)
      assert.match(noScan.stdout, /^SPC-7: BLOCKED \(could not judge: secrets\)\n/)
      assert.match(noScan.stdout, /\n {2}\? secrets +required {2}no secret scan ran on the run's diff\n/)
    })
  )

  it.effect("prints report.json with --json", () =>
    Effect.gen(function* () {
      const dir = project()
      writeFileSync(join(dir, "ok.json"), JSON.stringify(evidenceJson(finishedRun())))
      const r = yield* cli(
        "--cwd",
        dir,
        "gate",
        "evaluate",
        "SPC-7",
        "--evidence",
        "ok.json",
        "--profile",
        "daemon",
        "--json"
      )
      assert.strictEqual(r.code, 0)
      const report = JSON.parse(r.stdout)
      assert.deepStrictEqual(
        [report.schemaVersion, report.verdict.status, report.verdict.autoMergeable, report.verdict.profile],
        [1, "mergeable", true, "daemon"]
      )
    })
  )

  it.effect("names the problem in a bad evidence file, a bad profile, or the wrong issue", () =>
    Effect.gen(function* () {
      const dir = project()
      writeFileSync(
        join(dir, "bad.json"),
        '{\n  "schemaVersion": 1,\n  "issueId": "SPC-7",\n  "verification": { "steps": 3 }\n}\n'
      )
      const bad = yield* cli("--cwd", dir, "gate", "evaluate", "SPC-7", "--evidence", "bad.json")
      assert.strictEqual(bad.code, 1)
      assert.include(bad.stderr, "bad.json:4:21: error: verification.steps: expected array, found the integer 3")
      writeFileSync(join(dir, "ok.json"), JSON.stringify(evidenceJson(finishedRun())))
      const profile = yield* cli(
        "--cwd",
        dir,
        "gate",
        "evaluate",
        "SPC-7",
        "--evidence",
        "ok.json",
        "--profile",
        "stict"
      )
      assert.strictEqual(
        profile.stderr,
        'spec-orch: unknown gate profile "stict" in gate.policy.yaml (did you mean "strict"?)'
      )
      const other = yield* cli("--cwd", dir, "gate", "evaluate", "SPC-8", "--evidence", "ok.json")
      assert.include(other.stderr, 'ok.json: error: issueId: is "SPC-7", but the command judges SPC-8')
    })
  )
})

describe("spec-orch gate over the ledger, review-issue, accept-issue, findings, explain", () => {
  it.effect("says clearly when an issue has never run", () =>
    Effect.gen(function* () {
      const r = yield* cli("--cwd", project(), "gate", "evaluate", "SPC-7")
      assert.strictEqual(r.code, 1)
      assert.match(
        r.stderr,
        /^spec-orch: no evidence recorded for SPC-7 in \.spec-orch\/state\.db: the issue has never been run here/
      )
    })
  )

  it.effect("re-gates after a person accepts the exact diff, and shows the checklist and deviations first", () =>
    Effect.gen(function* () {
      const dir = project('[gate]\nprofile = "strict"\n[issue]\nfixtures_dir = "fixtures/issues"\n')
      // A policy file blocks on every deviation unless it says otherwise; this one lets minor ones through.
      writeFileSync(
        join(dir, "gate.policy.yaml"),
        `${readFileSync(join(dir, "gate.policy.yaml"), "utf8")}\ndeviations:\n  block_on: [major, blocking]\n`
      )
      yield* seed(
        dir,
        finishedRun({
          footprint: new Footprint({ allowed: ["src/api/"], forbidden: [] }),
          changedFiles: ["src/api/login.ts", "pnpm-lock.yaml"]
        })
      )
      const before = yield* cli("--cwd", dir, "gate", "evaluate", "SPC-7")
      assert.strictEqual(before.code, 1)

      const accepted = yield* cli("--cwd", dir, "accept-issue", "SPC-7", "--accepted-by", "dana")
      assert.strictEqual(accepted.code, 0, accepted.stderr)
      const out = accepted.stdout
      assert.match(
        out,
        /^Accepting SPC-7: Add a login endpoint\ndiff a3f1c09e5b7d, 2 changed file\(s\)\n\nAcceptance criteria:\n {2}\[ \] AC-1 POST \/login returns a token\n {2}\[ \] AC-2 Wrong passwords get 401\n\nDeviations:\n {2}minor {4}pnpm-lock\.yaml changed outside the declared footprint/
      )
      assert.isBelow(
        out.indexOf("Deviations:"),
        out.indexOf("recorded acceptance"),
        "the checklist comes before the acceptance"
      )
      assert.match(out, /recorded acceptance of SPC-7 by dana for diff a3f1c09e5b7d\n\nSPC-7: MERGEABLE/)

      const after = yield* cli("--cwd", dir, "gate", "evaluate", "SPC-7")
      assert.strictEqual(after.code, 0)
      const explained = yield* cli("--cwd", dir, "explain", "SPC-7")
      assert.match(explained.stdout, /^# SPC-7: Add a login endpoint\n\n\*\*Verdict: MERGEABLE\*\*\n/)
      assert.include(explained.stdout, "Accepted by dana at ")
    })
  )

  it.effect(
    "re-gates a review or an acceptance under the profile the run was judged with, not the project's default",
    () =>
      Effect.gen(function* () {
        // The run was judged under "strict" (seed); the project's default is now "ci", which does not ask for acceptance.
        const dir = project('[gate]\nprofile = "ci"\n')
        yield* seed(dir, finishedRun())
        const reviewed = yield* cli("--cwd", dir, "review-issue", "SPC-7", "--verdict", "pass", "--reviewed-by", "sam")
        assert.strictEqual(reviewed.code, 0, reviewed.stderr)
        assert.match(
          reviewed.stdout,
          /\n\nSPC-7: BLOCKED \(could not judge: human_acceptance\)\npolicy gate\.policy\.yaml, profile strict /
        )
        const explained = yield* cli("--cwd", dir, "explain", "SPC-7", "--json")
        assert.strictEqual(JSON.parse(explained.stdout).verdict.profile, "strict")
        const accepted = yield* cli("--cwd", dir, "accept-issue", "SPC-7", "--accepted-by", "dana")
        assert.match(accepted.stdout, /SPC-7: MERGEABLE/)
      })
  )

  it.effect("records a human review and findings, re-gating each time", () =>
    Effect.gen(function* () {
      const dir = project()
      yield* seed(
        dir,
        finishedRun({
          acceptance: new HumanAcceptance({
            acceptedBy: "dana",
            acceptedAt: "2026-11-25T11:00:00.000Z",
            diffHash: DIFF
          })
        })
      )
      const first = yield* cli("--cwd", dir, "gate", "evaluate", "SPC-7")
      assert.strictEqual(first.code, 0, first.stdout)

      const reviewed = yield* cli(
        "--cwd",
        dir,
        "review-issue",
        "SPC-7",
        "--verdict",
        "changes_requested",
        "--reviewed-by",
        "sam",
        "--summary",
        "no 401 path"
      )
      assert.strictEqual(reviewed.code, 0)
      assert.match(
        reviewed.stdout,
        /^recorded review of SPC-7: changes_requested by sam \(diff a3f1c09e5b7d\)\n\nSPC-7: BLOCKED \(failed: review\)/
      )
      assert.strictEqual((yield* cli("--cwd", dir, "gate", "evaluate", "SPC-7")).code, 1)
      yield* cli("--cwd", dir, "review-issue", "SPC-7", "--verdict", "pass", "--reviewed-by", "sam")
      assert.strictEqual((yield* cli("--cwd", dir, "gate", "evaluate", "SPC-7")).code, 0)

      const added = yield* cli(
        "--cwd",
        dir,
        "findings",
        "add",
        "SPC-7",
        "--source",
        "human",
        "--description",
        "token is logged",
        "--severity",
        "blocking",
        "--file-path",
        "src/api/login.ts",
        "--line",
        "9"
      )
      const id = makeFinding(
        { source: "human", description: "token is logged", filePath: "src/api/login.ts", line: 9 },
        "t"
      ).id
      assert.match(
        added.stdout,
        new RegExp(`^added ${id} \\(blocking, in_spec\\) to SPC-7\\n\\nSPC-7: BLOCKED \\(failed: findings\\)`)
      )
      const again = yield* cli(
        "--cwd",
        dir,
        "findings",
        "add",
        "SPC-7",
        "--source",
        "human",
        "--description",
        "token is logged",
        "--severity",
        "blocking",
        "--file-path",
        "src/api/login.ts",
        "--line",
        "9"
      )
      assert.match(
        again.stdout,
        new RegExp(`^${id} is already recorded on SPC-7 \\(same fingerprint\\); nothing added`)
      )
      const listed = yield* cli("--cwd", dir, "findings", "list", "SPC-7")
      assert.match(
        listed.stdout,
        new RegExp(
          `^ID +SEVERITY +SCOPE +SOURCE +WHERE +DESCRIPTION\\n${id} +blocking +in_spec +human +src/api/login\\.ts:9 +token is logged$`
        )
      )
      const resolved = yield* cli("--cwd", dir, "findings", "resolve", "SPC-7", id, "--resolved-by", "ada")
      assert.match(resolved.stdout, new RegExp(`^resolved ${id} on SPC-7 \\(by ada\\)\\n\\nSPC-7: MERGEABLE`))
      const missing = yield* cli("--cwd", dir, "findings", "resolve", "SPC-7", "f-00000000")
      assert.strictEqual(missing.stderr, `spec-orch: no finding f-00000000 on SPC-7 (findings on this issue: ${id})`)
      assert.strictEqual(
        (yield* cli("--cwd", dir, "findings", "list", "SPC-7")).stdout,
        "No unresolved findings on SPC-7."
      )
    })
  )

  it.effect(
    "explain does not wait on a tracker that never answers: the report comes without the title, and says why",
    () =>
      Effect.gen(function* () {
        // A GitHub that accepts the request and never answers (a hung proxy, a stalled API).
        const heard = yield* Deferred.make<void>()
        const server = createServer(() => Deferred.doneUnsafe(heard, Exit.void))
        yield* Effect.acquireRelease(
          Effect.callback<void>((resume) => {
            server.listen(0, "127.0.0.1", () => resume(Effect.void))
          }),
          () =>
            Effect.sync(() => {
              server.closeAllConnections()
              server.close()
            })
        )
        const port = (server.address() as AddressInfo).port
        const dir = project(
          `[gate]\nprofile = "strict"\n[issue]\nsource = "github"\n[github]\nrepo = "acme/widgets"\ntoken_env = "EXPLAIN_SILENT_GH"\napi_url = "http://127.0.0.1:${port}"\n`
        )
        yield* seed(dir, finishedRun({ issueId: "GH-7" }))
        const explaining = yield* Effect.forkChild(cli("--cwd", dir, "explain", "GH-7", "--json"))
        yield* Deferred.await(heard)
        yield* TestClock.adjust("5 seconds")
        const explained = yield* Fiber.join(explaining)
        assert.strictEqual(explained.code, 0, explained.stderr)
        assert.strictEqual(JSON.parse(explained.stdout).verdict.mergeable, false)
        assert.include(
          explained.stderr,
          "the issue tracker did not answer within 5s; GH-7 is shown without its title and acceptance criteria"
        )
      }).pipe(Effect.scoped)
  )
})

describe("spec-orch gate show-policy, list-conditions, profiles and config check", () => {
  it.effect("describe the policy under a profile", () =>
    Effect.gen(function* () {
      const dir = project()
      const shown = yield* cli("--cwd", dir, "gate", "show-policy", "--profile", "ci")
      assert.match(
        shown.stdout,
        /^policy: gate\.policy\.yaml\nprofile: ci\nauto-merge: no\ndeviations block on: minor, major, blocking\n\nCONDITION +STATUS +DESCRIPTION\n/
      )
      assert.match(shown.stdout, /\nfindings +required +No unresolved blocking findings\n/)
      assert.match(shown.stdout, /\nhuman_acceptance +disabled +A human has explicitly accepted the change/)
      const conditions = yield* cli("--cwd", dir, "gate", "list-conditions")
      assert.match(conditions.stdout, /\nbudget +no +Spend \(USD, tokens, time\) stayed within the configured limits\n/)
      const profiles = yield* cli("--cwd", dir, "gate", "profiles", "--json")
      assert.deepStrictEqual(
        JSON.parse(profiles.stdout).profiles.map((p: { name: string }) => p.name),
        ["daemon", "ci", "strict", "hotfix", "unattended"]
      )
      // The original's file never names protected_paths or secrets; spec-orch requires both in every profile, and says so.
      assert.match(shown.stdout, /\nprotected_paths +required \(enforced\) +No existing test/)
      assert.match(shown.stdout, /\nsecrets +required \(enforced\) +The change adds no secret/)
      assert.include(
        shown.stdout,
        "\nenforced: protected_paths, secrets — required in every profile though the policy does not name them;"
      )
      assert.match(shown.stdout, /\n {2}keys: +\*\*\/package\.json \(scripts, jest, mocha, ava, c8, nyc\);/)
      assert.deepStrictEqual(
        JSON.parse(profiles.stdout).profiles.map((p: { enforced: Array<string> }) => p.enforced),
        Array.from({ length: 5 }, () => ["protected_paths", "secrets"])
      )
      assert.match(
        (yield* cli("--cwd", dir, "gate", "profiles")).stdout,
        /^PROFILE +ENABLES +DISABLES +ENFORCED +AUTO-MERGE\ndaemon +- +human_acceptance +protected_paths, secrets +yes\n/
      )
      const builtIn = yield* cli("--cwd", mkdtempSync(join(tmpdir(), "empty-")), "gate", "show-policy")
      assert.match(builtIn.stdout, /^policy: built-in \(no policy file: the built-in default\)/)
    })
  )

  it.effect("name file, line and key for a broken policy file, in gate commands and config check", () =>
    Effect.gen(function* () {
      const dir = project('[gate]\nprofile = "stict"\n')
      writeFileSync(join(dir, "gate.policy.yaml"), "conditions:\n  builder: {}\n  verificaton: {}\n")
      const r = yield* cli("--cwd", dir, "gate", "profiles")
      assert.strictEqual(r.code, 1)
      assert.include(
        r.stderr,
        'gate.policy.yaml:3:3: error: conditions.verificaton: unknown condition "verificaton" (did you mean "verification"?)'
      )
      const check = yield* cli("--cwd", dir, "config", "check")
      assert.strictEqual(check.code, 1)
      assert.include(check.stdout, "gate.policy.yaml:3:3: error: conditions.verificaton: unknown condition")

      copyFileSync(join(fixtures, "original.gate.policy.yaml"), join(dir, "gate.policy.yaml"))
      const profile = yield* cli("--cwd", dir, "config", "check", "--json")
      assert.strictEqual(profile.code, 1)
      const problems = JSON.parse(profile.stdout).problems
      assert.deepStrictEqual(
        problems.map((p: any) => [p.line, p.key, p.severity, p.hint]),
        [[2, "gate.profile", "error", 'did you mean "strict"?']]
      )
      writeFileSync(join(dir, "spec-orch.toml"), '[gate]\nprofile = "strict"\n')
      assert.strictEqual((yield* cli("--cwd", dir, "config", "check")).code, 0)
    })
  )
})
