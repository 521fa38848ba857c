import { NodeServices } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { defaultConfig, Project, type SpecOrchConfig } from "@spec-orch/contract"
import { ConfigProvider, Effect, Layer } from "effect"
import { isSecretName, makeRedactor, Redactor, secretValues } from "../src/index.js"
import { loadConfig } from "./utils/models.js"

// Token-shaped test values are assembled at run time so that this file itself holds no token.
const fake = {
  github: `ghp_${"R4nd0mT0k3nV4lu3F0rT3st1ng0123456789".slice(0, 36)}`,
  githubPat: `github_pat_11ABCDEFG0123456789_${"a".repeat(59)}`,
  anthropic: `sk-ant-api03-${"Zx9".repeat(30)}`,
  openaiProject: `sk-proj-${"Q7w".repeat(20)}`,
  openaiLegacy: "sk-" + "Abc123Def456Ghi789Jk" + "T3BlbkFJ" + "Lmn012Opq345Rst678Uv",
  slack: "xox" + "b-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
  aws: "AKIA" + "Z7XQ4M2PLK9VHT3B",
  awsTemp: "ASIA" + "Q2W3E4R5T6Y7U8I9",
  linear: `lin_api_${"k".repeat(40)}`,
  gitlab: "glpat-" + "A1b2C3d4E5f6G7h8I9j0",
  npm: "npm_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8",
  google: "AIza" + "SyA-1234567890abcdefghijklmnopqrstu"
}
const pem = [
  "-----BEGIN RSA " + "PRIVATE KEY-----",
  "MIIEowIBAAKCAQEA1234567890abcdef",
  "abcdefghijklmnopqrstuvwxyz012345",
  "-----END RSA " + "PRIVATE KEY-----"
]

const redactorFrom = (env: Record<string, string>, config?: SpecOrchConfig) => makeRedactor(secretValues(env, config))

describe("Redactor.redact", () => {
  it("replaces the values of secret-looking variables with the variable's name", () => {
    const r = redactorFrom({
      GITHUB_TOKEN: "gh-value-1234567",
      DB_PASSWORD: "hunter2hunter2",
      PATH: "/usr/bin:/bin",
      SHORT_TOKEN: "abc123"
    })
    assert.strictEqual(
      r.redact("push with gh-value-1234567 and hunter2hunter2"),
      "push with [redacted:GITHUB_TOKEN] and [redacted:DB_PASSWORD]"
    )
    assert.strictEqual(r.redact("PATH=/usr/bin:/bin"), "PATH=/usr/bin:/bin", "not a secret name")
    assert.strictEqual(
      r.redact("code abc123 stays"),
      "code abc123 stays",
      "values under 8 characters are too common to redact"
    )
    assert.deepStrictEqual(r.names, ["DB_PASSWORD", "GITHUB_TOKEN"])
  })

  it("redacts the variables the config points at, whatever their names", () => {
    const config = loadConfig(
      [
        "[github]",
        'token_env = "MY_GH"',
        "[linear]",
        'token_env = "TRACKER_X"',
        "[builder]",
        'secret_env = ["INTERNAL_Y"]',
        'env = { ANTHROPIC_API_KEY = "in-config-key-123", LEVEL = "verbose-level" }',
        "[models.fast]",
        'model = "m"',
        'api_key_env = "LLM_Z"',
        "[daemon]",
        'webhook_secret_env = "HOOK_W"',
        "[telemetry]",
        'headers_env = { "x-team" = "COLLECTOR_V" }',
        "[[notify.webhooks]]",
        'url_env = "CHAT_HOOK_U"'
      ].join("\n")
    )
    const r = redactorFrom(
      {
        MY_GH: "value-of-my-gh",
        TRACKER_X: "value-of-tracker",
        INTERNAL_Y: "value-of-internal",
        LLM_Z: "value-of-llm-z",
        HOOK_W: "value-of-hook-w",
        COLLECTOR_V: "value-of-collector",
        CHAT_HOOK_U: "https://hooks.example.com/T0/B0/value-of-chat",
        OTHER: "value-of-other"
      },
      config
    )
    assert.strictEqual(
      r.redact(
        "value-of-my-gh value-of-tracker value-of-internal value-of-llm-z value-of-hook-w value-of-collector https://hooks.example.com/T0/B0/value-of-chat value-of-other in-config-key-123 verbose-level"
      ),
      "[redacted:MY_GH] [redacted:TRACKER_X] [redacted:INTERNAL_Y] [redacted:LLM_Z] [redacted:HOOK_W] [redacted:COLLECTOR_V] [redacted:CHAT_HOOK_U] value-of-other [redacted:ANTHROPIC_API_KEY] verbose-level"
    )
  })

  it("replaces the longer of two overlapping values whole, and a value with a quote inside JSON text", () => {
    const r = redactorFrom({ API_KEY: "abcdefgh12", LONG_API_KEY: "abcdefgh12345678", QUOTED_SECRET: 'pa"ss\\word1' })
    assert.strictEqual(r.redact("abcdefgh12345678 abcdefgh12"), "[redacted:LONG_API_KEY] [redacted:API_KEY]")
    assert.strictEqual(r.redact(JSON.stringify({ v: 'pa"ss\\word1' })), '{"v":"[redacted:QUOTED_SECRET]"}')
  })

  it("replaces well-known token shapes with the kind of token", () => {
    const r = redactorFrom({})
    const cases: Array<[string, string]> = [
      [fake.github, "github-token"],
      [fake.githubPat, "github-token"],
      [fake.anthropic, "anthropic-key"],
      [fake.openaiProject, "openai-key"],
      [fake.openaiLegacy, "openai-key"],
      [fake.slack, "slack-token"],
      [fake.aws, "aws-access-key-id"],
      [fake.awsTemp, "aws-access-key-id"],
      [fake.linear, "linear-key"],
      [fake.gitlab, "gitlab-token"],
      [fake.npm, "npm-token"],
      [fake.google, "google-api-key"]
    ]
    for (const [token, name] of cases)
      assert.strictEqual(r.redact(`key="${token}";`), `key="[redacted:${name}]";`, name)
    assert.strictEqual(r.redact(`a\n${pem.join("\n")}\nb`), "a\n[redacted:private-key]\nb")
    assert.strictEqual(r.redact(JSON.stringify({ key: pem.join("\n") })), '{"key":"[redacted:private-key]"}')
    assert.strictEqual(
      r.redact("curl -H 'Authorization: Bearer abc.def-123_456'"),
      "curl -H 'Authorization: Bearer [redacted:authorization]'"
    )
    assert.strictEqual(
      r.redact('{"authorization":"Basic dXNlcjpwYXNzd29yZA=="}'),
      '{"authorization":"Basic [redacted:authorization]"}'
    )
    assert.strictEqual(
      r.redact("sent Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig"),
      "sent Bearer [redacted:authorization]"
    )
    assert.strictEqual(
      r.redact("git clone https://x-access-token:s3cr3t-value@github.com/o/r.git"),
      "git clone https://x-access-token:[redacted:url-password]@github.com/o/r.git"
    )
    assert.strictEqual(
      r.redact("postgres://app:pw12345678@db:5432/x"),
      "postgres://app:[redacted:url-password]@db:5432/x"
    )
  })

  it("leaves ordinary text alone: git shas, sha256 hashes, UUIDs, paths, words about secrets, code that reads a token", () => {
    const r = redactorFrom({ GITHUB_TOKEN: "gh-value-1234567" })
    const ordinary = [
      "commit 4f2a0c9d1e8b7a6c5d4e3f2a1b0c9d8e7f6a5b4c (HEAD -> spec-orch/SPC-7)",
      "sha256 a3f1c09e5b7d2e4f6a8c0b1d3e5f7a9c1b3d5e7f9a1c3e5b7d9f1a3c5e7b9d1f",
      "request 123e4567-e89b-12d3-a456-426614174000 done",
      "  at handler (/tmp/worktrees/SPC-7/src/api/login.ts:40:17)",
      "the token, the secret and the session are words; Bearer tokens are explained in RFC 6750",
      "headers: { Authorization: `Bearer ${token}` }",
      "const githubToken = process.env.GITHUB_TOKEN ?? ghp_placeholder",
      "import sklearn; sk-learn-compat; ask-me-anything",
      "https://github.com/owner/repo/pull/12 and git@github.com:owner/repo.git",
      "AKIAlowercase is not a key; npm_config_registry=https://registry.npmjs.org/",
      "-----BEGIN PUBLIC KEY----- is not private",
      "sha512-Zx9Zx9Zx9Zx9Zx9Zx9Zx9Zx9Zx9Zx9Zx9Zx9Zx9Zx9Zx9Zx9== integrity"
    ]
    for (const line of ordinary) assert.strictEqual(r.redact(line), line)
  })
})

describe("Redactor.redactJson", () => {
  it("redacts every string, keys included, deep in objects and arrays, and keeps the rest", () => {
    const r = redactorFrom({ SERVICE_TOKEN: "svc-token-value" })
    const value = {
      a: "x svc-token-value",
      n: 3,
      ok: true,
      none: null,
      list: [fake.github, { deep: ["svc-token-value"] }],
      "svc-token-value": 1,
      at: new Date(0)
    }
    assert.deepStrictEqual(r.redactJson(value), {
      a: "x [redacted:SERVICE_TOKEN]",
      n: 3,
      ok: true,
      none: null,
      list: ["[redacted:github-token]", { deep: ["[redacted:SERVICE_TOKEN]"] }],
      "[redacted:SERVICE_TOKEN]": 1,
      at: "1970-01-01T00:00:00.000Z"
    })
    const cyclic: Record<string, unknown> = { s: "svc-token-value" }
    cyclic.self = cyclic
    assert.deepStrictEqual(r.redactJson(cyclic), { s: "[redacted:SERVICE_TOKEN]", self: "[circular]" })
  })
})

describe("Redactor.lines", () => {
  it("blanks the inside of a private key block that spans lines of a stream", () => {
    const r = redactorFrom({})
    const line = r.lines()
    assert.deepStrictEqual(["before", `key: ${pem[0]}`, pem[1]!, pem[2]!, `${pem[3]} after`, "next"].map(line), [
      "before",
      "key: [redacted:private-key]",
      "",
      "",
      "[redacted:private-key] after",
      "next"
    ])
  })
})

describe("Redactor.envNamesIn", () => {
  it("names the secret variables whose values occur in a text, never the values", () => {
    const r = redactorFrom({ A_TOKEN: "first-value-1", B_SECRET: "second-value-2", C_TOKEN: "third-value-3" })
    assert.deepStrictEqual(r.envNamesIn("+ x = 'second-value-2'; y = 'first-value-1'"), ["B_SECRET", "A_TOKEN"])
    assert.deepStrictEqual(r.envNamesIn("nothing here"), [])
  })
})

describe("isSecretName", () => {
  it("matches names that hold secrets and not the look-alikes", () => {
    for (const name of [
      "GITHUB_TOKEN",
      "gh_token",
      "AWS_SECRET_ACCESS_KEY",
      "AWS_SESSION_TOKEN",
      "DB_PASSWORD",
      "PGPASSWD",
      "OPENAI_API_KEY",
      "DD_APIKEY",
      "CLAUDE_CODE_OAUTH_TOKEN",
      "GOOGLE_CREDENTIALS",
      "AUTH",
      "STRIPE_KEY",
      "NPM_PAT",
      "SSH_PASSPHRASE",
      "SESSION_COOKIE"
    ]) {
      assert.isTrue(isSecretName(name), name)
    }
    for (const name of [
      "PATH",
      "PWD",
      "HOME",
      "GIT_AUTHOR_NAME",
      "GIT_AUTHOR_EMAIL",
      "SSH_AUTH_SOCK",
      "XDG_SESSION_ID",
      "DBUS_SESSION_BUS_ADDRESS",
      "GITHUB_TOKEN_ENV",
      "GOOGLE_APPLICATION_CREDENTIALS_FILE",
      "KEYBOARD",
      "AUTH_URL"
    ]) {
      assert.isFalse(isSecretName(name), name)
    }
  })
})

describe("Redactor.layer", () => {
  const project = (config: SpecOrchConfig) =>
    Project.layerFrom("/project", config).pipe(Layer.provide(NodeServices.layer))

  it.effect("reads the environment through the ConfigProvider, with the config's names", () =>
    Effect.gen(function* () {
      const r = yield* Redactor
      assert.strictEqual(
        r.redact("a gh-value-1234567 b tracker-value-9 c plain-value-12"),
        "a [redacted:GITHUB_TOKEN] b [redacted:ISSUES_X] c plain-value-12"
      )
    }).pipe(
      Effect.provide(Redactor.layer.pipe(Layer.provide(project(loadConfig('[linear]\ntoken_env = "ISSUES_X"\n'))))),
      Effect.provide(
        ConfigProvider.layer(
          ConfigProvider.fromEnv({
            env: {
              GITHUB_TOKEN: "gh-value-1234567",
              ISSUES_X: "tracker-value-9",
              PLAIN: "plain-value-12",
              __A__B_: "x"
            }
          })
        )
      )
    )
  )

  it.effect("layerEnv works from a provider of plain values, without a project", () =>
    Effect.gen(function* () {
      const r = yield* Redactor
      assert.strictEqual(r.redact("my-session-secret!"), "[redacted:APP_SESSION]")
      assert.deepStrictEqual(r.names, ["APP_SESSION"])
    }).pipe(
      Effect.provide(Redactor.layerEnv),
      Effect.provide(
        ConfigProvider.layer(ConfigProvider.fromUnknown({ APP_SESSION: "my-session-secret!", LEVEL: "debug-level" }))
      )
    )
  )

  it.effect("layerFrom takes an explicit environment and config", () =>
    Effect.gen(function* () {
      const r = yield* Redactor
      assert.strictEqual(r.redact("tok-1234567890"), "[redacted:GITHUB_TOKEN]")
    }).pipe(Effect.provide(Redactor.layerFrom({ GITHUB_TOKEN: "tok-1234567890" }, defaultConfig())))
  )
})
