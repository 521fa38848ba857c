import { assert, describe, it } from "@effect/vitest"
import { fakeGitHub, fakeLinear } from "@spec-orch/test-kit"
import { ConfigProvider, Effect } from "effect"
import { appendFileSync, cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { cli } from "./cli.js"

const example = join(import.meta.dirname, "../../../examples/hello-node")
const REPO = "acme/hello"
const SPEC = [
  "# Greetings in two languages",
  "",
  "## Acceptance Criteria",
  "",
  "- `greet` answers in French when asked",
  "- The README documents both languages",
  "",
  "## French greeting",
  "",
  "Add a French greeting to `src/greet.js` and its test in `test/greet.test.js`.",
  "",
  "## Documentation",
  "",
  "Document both greetings in `README.md`.",
  ""
].join("\n")

const withEnv = (env: Record<string, string>, ...args: Array<string>) =>
  cli(...args).pipe(
    Effect.provide(
      ConfigProvider.layer(ConfigProvider.fromEnv({ env: { ...(process.env as Record<string, string>), ...env } }))
    )
  )

describe("spec-orch promote", () => {
  it.live("refuses an unapproved plan, then promotes the approved one to GitHub once", () =>
    Effect.gen(function* () {
      const fake = yield* fakeGitHub()
      fake.addRepo(REPO)
      const dir = mkdtempSync(join(tmpdir(), "cli-promote-"))
      cpSync(example, dir, { recursive: true })
      appendFileSync(join(dir, "spec-orch.toml"), `\n[github]\nrepo = "${REPO}"\napi_url = "${fake.url}"\n`)
      const env = { GITHUB_TOKEN: fake.token }
      assert.strictEqual((yield* cli("--cwd", dir, "mission", "create", "Greetings", "--id", "greetings")).code, 0)
      writeFileSync(join(dir, "docs/specs/greetings/spec.md"), SPEC)
      const planned = yield* cli("--cwd", dir, "plan", "greetings", "--offline")
      assert.strictEqual(planned.code, 0, planned.stderr)

      const refused = yield* withEnv(env, "--cwd", dir, "promote", "greetings")
      assert.notStrictEqual(refused.code, 0)
      assert.include(refused.stderr, "spec-orch plan approve greetings")
      assert.strictEqual(fake.requests.length, 0)

      assert.strictEqual((yield* cli("--cwd", dir, "plan", "approve", "greetings", "--approved-by", "Ada")).code, 0)
      const dry = yield* withEnv(env, "--cwd", dir, "promote", "greetings", "--dry-run")
      assert.strictEqual(dry.code, 0, dry.stderr)
      assert.match(
        dry.stdout,
        /^Dry run: would create 3 issues in acme\/hello for mission greetings; nothing written\.$/m
      )
      assert.isFalse(existsSync(join(dir, "docs/specs/greetings/promotion.json")))

      const first = yield* withEnv(env, "--cwd", dir, "promote", "greetings")
      assert.strictEqual(first.code, 0, first.stderr)
      assert.match(
        first.stdout,
        /^Created 3 issues in acme\/hello for mission greetings; mapping in docs\/specs\/greetings\/promotion\.json\.$/m
      )
      assert.match(first.stdout, /created\s+packet french-greeting\s+#2 /)
      const mapping = JSON.parse(readFileSync(join(dir, "docs/specs/greetings/promotion.json"), "utf8"))
      assert.deepStrictEqual(Object.keys(mapping.packets).sort(), ["documentation", "french-greeting"])

      const second = yield* withEnv(env, "--cwd", dir, "promote", "greetings", "--json")
      assert.strictEqual(second.code, 0, second.stderr)
      const out = JSON.parse(second.stdout)
      assert.strictEqual(out.created, 0)
      assert.deepStrictEqual(
        out.steps.map((s: { action: string }) => s.action),
        ["recorded", "recorded", "recorded"]
      )
      assert.strictEqual(fake.requestsTo("POST /repos/{owner}/{repo}/issues").length, 3)
    })
  )

  it.live("pipeline shows each phase of a mission as it advances, changing nothing", () =>
    Effect.gen(function* () {
      const fake = yield* fakeGitHub()
      fake.addRepo(REPO)
      const dir = mkdtempSync(join(tmpdir(), "cli-pipeline-"))
      cpSync(example, dir, { recursive: true })
      appendFileSync(join(dir, "spec-orch.toml"), `\n[github]\nrepo = "${REPO}"\napi_url = "${fake.url}"\n`)
      const env = { GITHUB_TOKEN: fake.token }
      assert.strictEqual((yield* cli("--cwd", dir, "mission", "create", "Greetings", "--id", "greetings")).code, 0)
      writeFileSync(join(dir, "docs/specs/greetings/spec.md"), SPEC)

      const fresh = yield* cli("--cwd", dir, "pipeline", "greetings")
      assert.strictEqual(fresh.code, 0, fresh.stderr)
      assert.match(
        fresh.stdout,
        /^· spec\s+docs\/specs\/greetings\/spec\.md not approved yet {2}→ spec-orch mission approve greetings$/m
      )
      assert.match(fresh.stdout, /^· plan\s+no plan yet {2}→ spec-orch plan greetings$/m)
      assert.isFalse(existsSync(join(dir, "docs/specs/greetings/plan.json")))

      assert.strictEqual((yield* cli("--cwd", dir, "mission", "approve", "greetings", "--approved-by", "Ada")).code, 0)
      assert.strictEqual((yield* cli("--cwd", dir, "plan", "greetings", "--offline")).code, 0)
      assert.strictEqual((yield* cli("--cwd", dir, "plan", "approve", "greetings", "--approved-by", "Ada")).code, 0)
      const before = yield* cli("--cwd", dir, "pipeline", "greetings")
      assert.match(before.stdout, /^✓ approval\s+approved by Ada/m)
      assert.match(
        before.stdout,
        /^· promotion\s+not promoted to a tracker \(optional\) {2}→ spec-orch promote greetings$/m
      )
      assert.match(before.stdout, /^ {2}not-started\s+french-greeting {2}French greeting$/m)

      assert.strictEqual((yield* withEnv(env, "--cwd", dir, "promote", "greetings")).code, 0)
      const after = yield* cli("--cwd", dir, "pipeline", "greetings", "--json")
      assert.strictEqual(after.code, 0, after.stderr)
      const out = JSON.parse(after.stdout)
      assert.deepStrictEqual(
        out.phases.map((p: { phase: string; state: string }) => `${p.phase}:${p.state}`),
        ["spec:done", "plan:done", "approval:done", "promotion:done", "execution:pending"]
      )
      assert.deepStrictEqual(
        out.waves[0].packets.map((p: { packetId: string; issue: string }) => [p.packetId, p.issue]),
        [
          ["french-greeting", "#2"],
          ["documentation", "#3"]
        ]
      )
      assert.strictEqual(out.phases[4].next, "spec-orch run-plan greetings")
    })
  )

  it.live("--tracker linear promotes to the [linear] team with blocks relations, once", () =>
    Effect.gen(function* () {
      const fake = yield* fakeLinear()
      const dir = mkdtempSync(join(tmpdir(), "cli-promote-linear-"))
      cpSync(example, dir, { recursive: true })
      appendFileSync(join(dir, "spec-orch.toml"), `\n[linear]\nteam_key = "SON"\napi_url = "${fake.url}"\n`)
      const env = { SPEC_ORCH_LINEAR_TOKEN: fake.token }
      assert.strictEqual((yield* cli("--cwd", dir, "mission", "create", "Greetings", "--id", "greetings")).code, 0)
      writeFileSync(join(dir, "docs/specs/greetings/spec.md"), SPEC)
      assert.strictEqual((yield* cli("--cwd", dir, "plan", "greetings", "--offline")).code, 0)
      assert.strictEqual((yield* cli("--cwd", dir, "plan", "approve", "greetings", "--approved-by", "Ada")).code, 0)
      const first = yield* withEnv(env, "--cwd", dir, "promote", "greetings", "--tracker", "linear")
      assert.strictEqual(first.code, 0, first.stderr)
      assert.match(first.stdout, /^Created 3 issues in SON for mission greetings/m)
      assert.match(first.stdout, /created\s+packet documentation\s+SON-\d+ /)
      const second = yield* withEnv(env, "--cwd", dir, "promote", "greetings", "--tracker", "linear")
      assert.match(second.stdout, /^Nothing new: every packet of mission greetings already has an issue in SON/m)
      assert.strictEqual(fake.requestsTo("issueCreate").length, 3)
    })
  )
})
