import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect } from "effect"
import { appendFileSync, cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { cli } from "./cli.js"
import { seedLedger } from "./utils/seed-ledger.js"

const example = join(import.meta.dirname, "../../../examples/hello-node")
// The variable is secret only because the config names it; the token is assembled so no file holds one.
const GH_VALUE = "value-of-my-gh-0042"
const TOKEN = `ghp_${"R4nd0mT0k3nV4lu3F0rT3st1ng0123456789".slice(0, 36)}`

/** The example project with `[github] token_env = "MY_GH"` and an issue whose title quotes both secrets. */
const project = () => {
  const dir = mkdtempSync(join(tmpdir(), "cli-redact-"))
  cpSync(example, dir, { recursive: true })
  appendFileSync(join(dir, "spec-orch.toml"), '\n[github]\ntoken_env = "MY_GH"\n')
  const file = join(dir, "fixtures/issues/HELLO-1.json")
  const issue = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>
  writeFileSync(file, JSON.stringify({ ...issue, title: `Rotate ${GH_VALUE} and ${TOKEN}` }, null, 2))
  return dir
}

const withEnv = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  effect.pipe(Effect.provide(ConfigProvider.layer(ConfigProvider.fromEnvRecord({ ...process.env, MY_GH: GH_VALUE }))))

describe("what the CLI prints", () => {
  it.effect("is redacted: values of variables the config names and token shapes, in text and JSON", () =>
    withEnv(
      Effect.gen(function* () {
        const dir = project()
        const text = yield* cli("--cwd", dir, "issue", "show", "HELLO-1")
        assert.strictEqual(text.code, 0, text.stderr)
        assert.include(text.stdout, "Rotate [redacted:MY_GH] and [redacted:github-token]")
        const json = yield* cli("--cwd", dir, "issue", "list", "--json")
        assert.strictEqual(
          JSON.parse(json.stdout).issues[0].title,
          "Rotate [redacted:MY_GH] and [redacted:github-token]"
        )
        for (const out of [text.stdout, json.stdout]) {
          assert.notInclude(out, GH_VALUE)
          assert.notInclude(out, TOKEN)
        }
      })
    )
  )

  it.effect(
    "is redacted in what gate evaluate and explain show from the ledger (the issue's title in the report)",
    () =>
      withEnv(
        Effect.gen(function* () {
          const dir = project()
          yield* seedLedger(dir, [{ issueId: "HELLO-1", runId: "HELLO-1-r1" }])
          for (const args of [
            ["gate", "evaluate", "HELLO-1", "--json"],
            ["explain", "HELLO-1", "--json"]
          ]) {
            const r = yield* cli("--cwd", dir, ...args)
            assert.strictEqual(
              JSON.parse(r.stdout).title,
              "Rotate [redacted:MY_GH] and [redacted:github-token]",
              `${args.join(" ")}: ${r.stderr}`
            )
            assert.notInclude(r.stdout, GH_VALUE)
            assert.notInclude(r.stdout, TOKEN)
          }
        })
      )
  )

  it.effect("is redacted in the gate policy that gate show-policy prints", () =>
    withEnv(
      Effect.gen(function* () {
        const dir = project()
        const policy = join(dir, "gate.policy.yaml")
        writeFileSync(
          policy,
          readFileSync(policy, "utf8").replace(
            'description: "The builder agent completed"',
            `description: "The builder agent completed (its key: ${GH_VALUE})"`
          )
        )
        for (const json of [false, true]) {
          const r = yield* cli("--cwd", dir, "gate", "show-policy", ...(json ? ["--json"] : []))
          assert.strictEqual(r.code, 0, r.stderr)
          assert.include(r.stdout, "The builder agent completed (its key: [redacted:MY_GH])")
          assert.notInclude(r.stdout, GH_VALUE)
        }
      })
    )
  )

  it.effect("redacts error messages on stderr too", () =>
    withEnv(
      Effect.gen(function* () {
        const r = yield* cli("--cwd", project(), "issue", "show", GH_VALUE)
        assert.strictEqual(r.code, 1)
        assert.match(r.stderr, /^spec-orch: issue \[redacted:MY_GH\] not found/)
        assert.notInclude(r.stderr, GH_VALUE)
      })
    )
  )
})
