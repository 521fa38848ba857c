/**
 * Redactor throughput: 100 MB of mixed agent output (JSON event lines, code, git shas, UUIDs, paths,
 * URLs, prose, with a token or a secret value every few hundred lines), redacted line by line as a
 * stream would be, with ten secret environment values. Reports the median MB/s of three passes
 * against the target (> 50 MB/s: redaction must never be what slows a run down).
 */
import { secretValues } from "../src/Redaction.js"
import { makeRedactor, TOKEN_SHAPES } from "../src/SecretRedaction.js"

const TOTAL_MB = Number(process.env.REDACTION_BENCH_MB ?? 100)
const RUNS = 3
const report = (metric: string, value: number, unit: string, extra: { target?: string; note?: string } = {}) =>
  console.log(JSON.stringify({ bench: "redaction", metric, value, unit, ...extra }))

// Deterministic pseudo-random text (no Math.random: the same input every run).
let seed = 42
const rand = () => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff
  return seed / 0x7fffffff
}
const pick = <A>(xs: ReadonlyArray<A>): A => xs[Math.floor(rand() * xs.length)]!
const hex = (n: number) => Array.from({ length: n }, () => "0123456789abcdef"[Math.floor(rand() * 16)]).join("")
const b62 = (n: number) =>
  Array.from(
    { length: n },
    () => "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"[Math.floor(rand() * 62)]
  ).join("")

const env: Record<string, string> = { PATH: "/usr/local/bin:/usr/bin:/bin", HOME: "/root" }
for (let i = 0; i < 10; i++) env[`SERVICE_${i}_TOKEN`] = `s${i}-${b62(24)}`
const redactor = makeRedactor(secretValues(env))
const secrets = Object.values(env).filter((v) => v.length > 20)

const plain = [
  () =>
    JSON.stringify({
      type: "assistant",
      message: {
        content: [{ type: "text", text: "I will update the handler in src/api/login.ts and run the tests again." }]
      }
    }),
  () => JSON.stringify({ type: "tool_use", name: "Bash", input: { command: `git log -1 --format=%H ${hex(40)}` } }),
  () => `commit ${hex(40)} (HEAD -> spec-orch/SPC-${Math.floor(rand() * 900)})`,
  () => `  at Object.<anonymous> (/tmp/worktrees/SPC-7/src/api/login.ts:${Math.floor(rand() * 300)}:17)`,
  () => `request ${crypto.randomUUID()} finished in ${Math.floor(rand() * 900)} ms`,
  () => "export const login = async (req: Request): Promise<Response> => { return json({ ok: true }) }",
  () => `fetching https://registry.npmjs.org/effect/-/effect-4.1.0.tgz (sha512-${b62(40)})`,
  () => "The quick brown fox jumps over the lazy dog; tokens, secrets and sessions are words, not secrets.",
  () => `diff --git a/src/${hex(6)}.ts b/src/${hex(6)}.ts\n@@ -1,4 +1,6 @@`,
  () => "✓ test/api/login.test.ts (12 tests) 340ms — expected 200 but got 401 from Authorization check"
]
const leaky = [
  () => `export GITHUB_TOKEN=ghp_${b62(36)}`,
  () => `curl -H "Authorization: Bearer ${b62(32)}" https://api.example.com`,
  () => `using key ${pick(secrets)} for the call`,
  () => `aws_access_key_id = AKIA${b62(16).toUpperCase()}`,
  () => `git remote add origin https://x-access-token:${b62(30)}@github.com/o/r.git`
]

// ~1 MB of lines, repeated: generating 100 MB of random text would measure the generator.
const lines: Array<string> = []
let size = 0
while (size < 1024 * 1024) {
  const line = rand() < 0.005 ? pick(leaky)() : pick(plain)()
  lines.push(line)
  size += Buffer.byteLength(line) + 1
}
const repeats = Math.ceil((TOTAL_MB * 1024 * 1024) / size)

const results: Array<number> = []
let redactedLines = 0
for (let run = 0; run < RUNS; run++) {
  let changed = 0
  const started = performance.now()
  for (let r = 0; r < repeats; r++) {
    for (const line of lines) if (redactor.redact(line) !== line) changed++
  }
  const seconds = (performance.now() - started) / 1000
  results.push((size * repeats) / 1024 / 1024 / seconds)
  redactedLines = changed
}
const median = [...results].sort((a, b) => a - b)[1]!
report("throughput, line by line", Math.round(median), "MB/s", {
  target: "> 50 MB/s",
  note: `${Math.round((size * repeats) / 1024 / 1024)} MB, ${lines.length * repeats} lines, ${redactedLines} lines redacted, 10 secret values + ${TOKEN_SHAPES.length} shapes`
})

const chunk = lines.join("\n")
const started = performance.now()
for (let r = 0; r < repeats; r++) redactor.redact(chunk)
report(
  "throughput, 1 MB chunks",
  Math.round((size * repeats) / 1024 / 1024 / ((performance.now() - started) / 1000)),
  "MB/s",
  { target: "> 50 MB/s" }
)
