/**
 * The dashboard over HTTP shows no secret: a run whose issue title carries the configured GitHub token
 * and whose agent prints its model key and an `sk-` key is served by every read endpoint and the live
 * feed with each of them redacted, and its hostile HTML title travels as JSON text (never as a page).
 */
import { assert, describe, it } from "@effect/vitest"
import { spawnSync } from "node:child_process"
import { readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { makeProject, waitFor } from "./utils/project.js"

// Assembled at run time so that no file in this repository holds a token.
const MODEL_KEY = `plain-model-key-${process.pid}-Qz9w`
const GITHUB_TOKEN = `ghp_${"D4shb0ardT0k3nV4lu3F0rT3st1ng0123456789".slice(0, 36)}`
const SK_KEY = "sk-" + "proj-" + "Zx8Yw7Vu6Ts5Rq4Po3Nm2Lk1Jh0Gf9Ed8Cb7"

const AGENT = `
import { mkdirSync, writeFileSync } from "node:fs"
const say = (e) => console.log(JSON.stringify(e))
say({ type: "message", text: "my key is " + process.env.ANTHROPIC_API_KEY + " and " + ${JSON.stringify(SK_KEY.slice(0, 8))} + ${JSON.stringify(SK_KEY.slice(8))} })
mkdirSync("src", { recursive: true })
writeFileSync("src/ok.txt", "ok\\n")
say({ type: "file_change", path: "src/ok.txt", kind: "add" })
say({ type: "result", text: "done; the key was " + process.env.ANTHROPIC_API_KEY })
`

describe("the dashboard shows no secret", () => {
  it("redacts the configured GitHub token, the model key and an sk- key in every API answer and live event; a hostile title stays JSON text", async () => {
    const p = makeProject({
      builder: ['adapter = "command"', 'command = ["node", "tools/leaky-agent.mjs"]', "timeout_seconds = 60"],
      env: { ANTHROPIC_API_KEY: MODEL_KEY, GITHUB_TOKEN }
    })
    writeFileSync(join(p.root, "tools/leaky-agent.mjs"), AGENT)
    spawnSync("git", ["add", "-A"], { cwd: p.root })
    spawnSync("git", ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "a leaky agent"], { cwd: p.root })
    const hostile = `<img src=x onerror="alert(1)"> deploy with ${GITHUB_TOKEN} and ${SK_KEY}`
    p.issue("SEC-1", { builder_prompt: "Configure the client.", target_files: ["src/"] })
    const fixture = join(p.root, "fixtures/issues/SEC-1.json")
    writeFileSync(fixture, JSON.stringify({ ...JSON.parse(readFileSync(fixture, "utf8")), title: hostile }))
    const r = p.cli("run", "SEC-1", "--auto-approve", "--json")
    assert.include([0, 1], r.status, r.stderr)

    const child = p.spawn("dashboard", "--json")
    let out = ""
    child.stdout!.on("data", (d) => (out += d))
    await waitFor(() => out.includes("\n"), 30_000)
    const { base } = JSON.parse(out.split("\n")[0]!) as { base: string }
    try {
      const texts: Array<[string, string]> = []
      for (const path of [
        "/api/v1/state",
        "/api/v1/attention",
        "/api/v1/SEC-1",
        "/api/v1/runs/SEC-1-r1",
        "/api/v1/stats",
        "/api/v1/metrics",
        "/api/v1/daemon",
        "/api/v1/missions"
      ]) {
        const res = await fetch(`${base}${path}`)
        assert.strictEqual(res.status, 200, path)
        assert.match(res.headers.get("content-type") ?? "", /^application\/json/, `${path} is JSON, never a page`)
        texts.push([path, await res.text()])
      }
      // The live feed's first look: every run and the log of each.
      const abort = new AbortController()
      const feed = await fetch(`${base}/api/v1/events`, { signal: abort.signal })
      const reader = feed.body!.getReader()
      let events = ""
      const decoder = new TextDecoder()
      while (!/event: run[\s\S]*SEC-1-r1/.test(events))
        events += decoder.decode((await reader.read()).value, { stream: true })
      abort.abort()
      texts.push(["/api/v1/events", events])

      const detail = JSON.parse(texts.find(([path]) => path === "/api/v1/runs/SEC-1-r1")![1])
      assert.isTrue(JSON.stringify(detail.events).includes("my key is"), "the agent's message is there, redacted")
      for (const [path, text] of texts) {
        assert.notInclude(text, MODEL_KEY, path)
        assert.notInclude(text, GITHUB_TOKEN, path)
        assert.notInclude(text, SK_KEY, path)
      }
      // The title is data: the markup comes back as the characters it is, for the page to set as text.
      const title = JSON.parse(texts[2]![1]).runs[0].title as string
      assert.include(title, `<img src=x onerror="alert(1)">`)
    } finally {
      child.kill("SIGTERM")
    }
  })
})
