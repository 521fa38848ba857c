/**
 * The start-up half of redaction: token shapes, secret-looking names and the redactor itself, with
 * nothing from the project or the model registry, so a process can redact what it prints before it
 * loads anything else (the CLI does this first). `Redaction.ts` adds the config's secret names and the service.
 */
import { ConfigProvider, Effect } from "effect"

/** One secret value to redact, with the environment variable it came from. */
export interface SecretValue {
  readonly name: string
  readonly value: string
}

/**
 * A well-known token shape. `pattern` is a regular expression source (no flags, no capture groups);
 * `keep`, when set, is the part of a match that is shown (e.g. the `Authorization: Bearer ` before
 * the credential). `docs` is where the provider documents the format.
 */
export interface TokenShape {
  readonly name: string
  readonly pattern: string
  readonly keep?: RegExp
  readonly docs: string
}

const PEM_LABEL = "[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?"

/**
 * The token shapes redacted from streamed text. Kept small and precise on purpose: a false positive
 * mangles ordinary output. Hex-only strings (git shas, sha256 hashes) and UUIDs match none of them.
 * The diff scan uses secretlint's maintained rule set instead (see `SecretScan`).
 */
export const TOKEN_SHAPES: ReadonlyArray<TokenShape> = [
  {
    // The password in a URL's userinfo (`https://user:token@host`, `postgres://u:p@db`). The match
    // starts at `://`, not at the scheme: a pattern that starts at every word is four times slower.
    name: "url-password",
    pattern: String.raw`://[^\s:/?#@"'<>\[\]]+:[^\s/?#@"'<>\[\]]+@`,
    keep: /^:\/\/[^:]+:/,
    docs: "https://www.rfc-editor.org/rfc/rfc3986#section-3.2.1"
  },
  {
    name: "github-token",
    pattern: String.raw`\b(?:gh[pousr]_[A-Za-z0-9]{36,251}|github_pat_[A-Za-z0-9_]{22,255})\b`,
    docs: "https://docs.github.com/en/authentication/keeping-your-account-and-data-secure/about-authentication-to-github#githubs-token-formats"
  },
  {
    name: "anthropic-key",
    pattern: String.raw`\bsk-ant-[A-Za-z0-9_-]{20,}`,
    docs: "https://docs.anthropic.com/en/api/overview#authentication"
  },
  {
    // Project, service-account and admin keys by prefix; legacy keys by the `T3BlbkFJ` every OpenAI key carries.
    name: "openai-key",
    pattern: String.raw`\bsk-(?:(?:proj|svcacct|admin)-[A-Za-z0-9_-]{20,}|[A-Za-z0-9_-]{0,200}T3BlbkFJ[A-Za-z0-9_-]{8,})`,
    docs: "https://platform.openai.com/docs/api-reference/authentication"
  },
  {
    name: "slack-token",
    pattern: String.raw`\bxox[abeoprs]-[A-Za-z0-9-]{10,}`,
    docs: "https://api.slack.com/authentication/token-types"
  },
  {
    name: "aws-access-key-id",
    pattern: String.raw`\b(?:AKIA|ASIA)[A-Z0-9]{16}\b`,
    docs: "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-unique-ids"
  },
  {
    name: "linear-key",
    pattern: String.raw`\blin_(?:api|oauth)_[A-Za-z0-9]{32,}`,
    docs: "https://linear.app/developers/graphql#personal-api-keys"
  },
  {
    name: "gitlab-token",
    pattern: String.raw`\bgl(?:pat|dt|rt|ptt|cbt|oas|ft|soat)-[A-Za-z0-9_-]{20,}`,
    docs: "https://docs.gitlab.com/security/tokens/#token-prefixes"
  },
  {
    name: "npm-token",
    pattern: String.raw`\bnpm_[A-Za-z0-9]{36}\b`,
    docs: "https://github.blog/changelog/2021-09-23-npm-has-a-new-access-token-format/"
  },
  {
    name: "google-api-key",
    pattern: String.raw`\bAIza[0-9A-Za-z_-]{35}`,
    docs: "https://cloud.google.com/docs/authentication/api-keys"
  },
  {
    // A whole PEM block; an unterminated one (a stream cut mid-key) to the end of the text.
    name: "private-key",
    pattern: String.raw`-----BEGIN ?${PEM_LABEL}-----[\s\S]*?(?:-----END ?${PEM_LABEL}-----|$)`,
    docs: "https://www.rfc-editor.org/rfc/rfc7468#section-10"
  },
  {
    // `Authorization: Bearer|Basic|token <credential>` (header or JSON), and a bare `Bearer <credential>`.
    name: "authorization",
    pattern: String.raw`[Aa]uthorization["']?\s{0,3}[:=]\s{0,3}["']?(?:[Bb]earer|[Bb]asic|[Tt]oken)\s{1,3}[A-Za-z0-9._~+/=-]{8,}|\b[Bb]earer\s{1,3}[A-Za-z0-9._~+/-]{16,}=*`,
    keep: /^[\s\S]*\s/,
    docs: "https://www.rfc-editor.org/rfc/rfc6750#section-2.1"
  }
]

/**
 * Whether a variable of this name holds a secret: its name contains TOKEN, SECRET, PASSWORD,
 * PASSWD, PASSPHRASE, API_KEY/APIKEY, ACCESS_KEY, PRIVATE_KEY, CREDENTIAL, AUTH (not AUTHOR),
 * SESSION or COOKIE, or ends in `_KEY` or `_PAT` (case-insensitive). Names whose values are
 * locations (`…_FILE`, `…_PATH`, `…_DIR`, `…_URL`, `…_SOCK`, `…_ENV`) and a few well-known session
 * variables of the desktop are not secrets.
 */
export const isSecretName = (name: string): boolean => {
  const upper = name.toUpperCase()
  if (NOT_SECRET.has(upper) || /_(FILE|PATH|DIR|DIRECTORY|URL|SOCK|ENV)$/.test(upper)) return false
  return /TOKEN|SECRET|PASSWORD|PASSWD|PASSPHRASE|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY|CREDENTIAL|AUTH(?!OR)|SESSION|COOKIE|_KEY$|_PAT$/.test(
    upper
  )
}

const NOT_SECRET = new Set([
  "XDG_SESSION_ID",
  "XDG_SESSION_TYPE",
  "XDG_SESSION_CLASS",
  "XDG_SESSION_DESKTOP",
  "DESKTOP_SESSION",
  "GDMSESSION",
  "DBUS_SESSION_BUS_ADDRESS",
  "SESSION_MANAGER",
  "GPG_AGENT_INFO",
  "SSH_AUTH_SOCK"
])

/** Values shorter than this are never redacted: they would match ordinary words and numbers. */
export const MIN_SECRET_LENGTH = 8

/**
 * The secrets in `env`: the values of variables with secret-looking names or named in `configured`, and of
 * `extra` entries with secret-looking names; only values of at least `MIN_SECRET_LENGTH` characters.
 * One value known under several names is listed once.
 */
export const collectSecretValues = (
  env: Readonly<Record<string, string | undefined>>,
  configured: ReadonlySet<string> = new Set(),
  extra: Readonly<Record<string, string>> = {}
): ReadonlyArray<SecretValue> => {
  const out = new Map<string, string>()
  const add = (name: string, value: string | undefined) => {
    if (value === undefined) return
    for (const v of new Set([value, value.trim()])) if (v.length >= MIN_SECRET_LENGTH && !out.has(v)) out.set(v, name)
  }
  for (const name of [...Object.keys(env)].sort()) if (configured.has(name) || isSecretName(name)) add(name, env[name])
  for (const name of configured) add(name, env[name])
  for (const [name, value] of Object.entries(extra).sort()) if (isSecretName(name)) add(name, value)
  return [...out].map(([value, name]) => ({ name, value }))
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")

const PEM_BEGIN = new RegExp(`-----BEGIN ?${PEM_LABEL}-----`)
const PEM_OPEN_AT_END = new RegExp(String.raw`-----BEGIN ?${PEM_LABEL}-----(?![\s\S]*-----END ?${PEM_LABEL}-----)`)
const PEM_END = new RegExp(`-----END ?${PEM_LABEL}-----`)

/** What a `Redactor` does; `makeRedactor` builds one from secret values. */
export interface RedactorShape {
  /** `text` with every secret value and token shape replaced by `[redacted:NAME]`. Synchronous and fast: it runs on every output line. */
  readonly redact: (text: string) => string
  /** The JSON view of `value` (what `JSON.stringify` would see) with every string in it, keys included, redacted. */
  readonly redactJson: (value: unknown) => unknown
  /**
   * A redactor for a stream of lines: like `redact`, and it also blanks the lines inside a PEM
   * private key block that began on an earlier line. One per stream; it keeps that state.
   */
  readonly lines: () => (line: string) => string
  /** The names of the secret variables whose values occur in `text` (never the values). */
  readonly envNamesIn: (text: string) => ReadonlyArray<string>
  /** The names of the variables whose values are redacted (never the values). */
  readonly names: ReadonlyArray<string>
}

/** A redactor for these secret values plus `TOKEN_SHAPES`. Pure: nothing is read from the host. */
export const makeRedactor = (secrets: ReadonlyArray<SecretValue>): RedactorShape => {
  // Longest first, so a value that contains another is replaced whole; JSON-escaped variants too,
  // so a value with a quote or backslash is also found inside JSON text.
  const needles = new Map<string, string>()
  for (const s of secrets) {
    needles.set(s.value, s.name)
    const escaped = JSON.stringify(s.value).slice(1, -1)
    if (escaped !== s.value && !needles.has(escaped)) needles.set(escaped, s.name)
  }
  const ordered = [...needles].sort((a, b) => b[0].length - a[0].length)
  // One regular expression for everything: V8 scans an alternation of literals far faster than it
  // runs one `includes` per value, and one pass per line beats one per shape (see bench/redaction).
  const values = ordered.length > 0 ? ordered.map(([v]) => escapeRegExp(v)).join("|") : "(?!)"
  const envOnly = new RegExp(values, "g")
  const everything = new RegExp([values, ...TOKEN_SHAPES.map((s) => s.pattern)].map((p) => `(${p})`).join("|"), "g")
  const replace = (match: string, env: string | undefined, ...groups: Array<unknown>) => {
    if (env !== undefined) return `[redacted:${needles.get(match) ?? "secret"}]`
    for (let i = 0; i < TOKEN_SHAPES.length; i++) {
      if (groups[i] === undefined) continue
      const shape = TOKEN_SHAPES[i]!
      const kept = shape.keep !== undefined ? (shape.keep.exec(match)?.[0] ?? "") : ""
      return `${kept}[redacted:${shape.name}]${shape.name === "url-password" ? "@" : ""}`
    }
    return match
  }

  const redact = (text: string): string => (text.length < MIN_SECRET_LENGTH ? text : text.replace(everything, replace))

  const redactJson = (value: unknown): unknown => {
    const seen = new WeakSet<object>()
    const walk = (v: unknown): unknown => {
      if (typeof v === "string") return redact(v)
      if (v === null || typeof v !== "object") return v
      if (typeof (v as { toJSON?: unknown }).toJSON === "function") {
        const json = (v as { toJSON: () => unknown }).toJSON()
        if (json !== v) return walk(json)
      }
      if (seen.has(v)) return "[circular]"
      seen.add(v)
      const result = Array.isArray(v)
        ? v.map(walk)
        : Object.fromEntries(Object.entries(v).map(([k, x]) => [redact(k), walk(x)]))
      seen.delete(v)
      return result
    }
    return walk(value)
  }

  const lines = () => {
    let inKey = false
    return (line: string): string => {
      if (inKey) {
        const end = PEM_END.exec(line)
        if (end === null) return ""
        inKey = false
        return redact(`[redacted:private-key]${line.slice(end.index + end[0].length)}`)
      }
      if (line.includes("PRIVATE KEY") && PEM_BEGIN.test(line) && PEM_OPEN_AT_END.test(line)) inKey = true
      return redact(line)
    }
  }

  const envNamesIn = (text: string): ReadonlyArray<string> => [
    ...new Set([...text.matchAll(envOnly)].map((m) => needles.get(m[0]) ?? "secret"))
  ]

  return { redact, redactJson, lines, envNamesIn, names: [...new Set(secrets.map((s) => s.name))].sort() }
}

/**
 * Every variable of the current `ConfigProvider` (the process environment unless a test provides
 * another), by walking its tree: the environment provider splits names on `_`, and joining the path
 * with `_` gives the names back.
 */
export const readEnvironment: Effect.Effect<Record<string, string>> = Effect.gen(function* () {
  const provider = yield* ConfigProvider.ConfigProvider
  const env: Record<string, string> = {}
  const walk = (path: ReadonlyArray<string>): Effect.Effect<void> =>
    Effect.gen(function* () {
      if (path.length > 32) return
      const node = yield* provider.load(path).pipe(Effect.orElseSucceed(() => undefined))
      if (node === undefined) return
      if (path.length > 0 && node.value !== undefined) env[path.join("_")] = node.value
      if (node._tag === "Record") for (const key of node.keys) yield* walk([...path, key])
      else if (node._tag === "Array") for (let i = 0; i < node.length; i++) yield* walk([...path, String(i)])
    })
  yield* walk([])
  return env
})

/** A redactor over the current `ConfigProvider`'s variables (the process environment): names and shapes, no config. */
export const environmentRedactor: Effect.Effect<RedactorShape> = Effect.map(readEnvironment, (env) =>
  makeRedactor(collectSecretValues(env))
)
