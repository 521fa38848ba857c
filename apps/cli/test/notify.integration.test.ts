/**
 * `[notify]` end to end with the real binary: a mission whose packet waits for a person's acceptance
 * posts `blocked-on-human` and then `mission-finished` to a loopback webhook.
 */
import { assert, describe, it } from "@effect/vitest"
import { FakeHttpServer } from "@spec-orch/test-kit"
import { appendFileSync } from "node:fs"
import { join } from "node:path"
import { makeMissionProject } from "./utils/mission-project.js"
import { makeProject, writeGatePolicy } from "./utils/project.js"

describe("[notify]", () => {
  it("run-plan posts blocked-on-human for a packet waiting for acceptance, then mission-finished", async () => {
    const hook = await new FakeHttpServer(
      (i) => i.url.pathname,
      () => ({ status: 200, body: "ok" }),
      (status) => ({ error: `HTTP ${status}` })
    ).start()
    try {
      const p = makeMissionProject({ profile: "accepting" })
      writeGatePolicy(p.root, { accepting: ["review"] })
      appendFileSync(
        join(p.root, "spec-orch.toml"),
        ["[[notify.webhooks]]", 'url_env = "SO_NOTIFY_HOOK"', ""].join("\n")
      )
      p.git("commit", "-qam", "a profile that waits for a person's acceptance; a webhook")
      p.mission("acc", [[{ id: "one", files: ["src/one.js"], prompt: "WRITE src/one.js one" }]])
      const r = await p.cliAsync(["run-plan", "acc", "--json"], {
        SO_NOTIFY_HOOK: `${hook.origin}/hook`
      })
      assert.notStrictEqual(r.stderr.includes("SO_NOTIFY_HOOK is not set"), true, r.stderr)
      const bodies = hook.requestsTo("/hook").map((q) => q.body as Record<string, string>)
      assert.deepStrictEqual(
        bodies.map((b) => [b.event, b.reason]),
        [
          ["blocked-on-human", "acceptance"],
          ["mission-finished", "failed"]
        ],
        r.stderr
      )
      assert.strictEqual(bodies[1]!.missionId, "acc")
    } finally {
      await hook.close()
    }
  })

  it("doctor warns about a webhook whose variable is not set, and a bad entry is an error naming its key", () => {
    const p = makeProject({
      toml: '[[notify.webhooks]]\nurl_env = "NOTIFY_DOCTOR_HOOK"\nkind = "slack"\nevents = ["dead-letter"]\n'
    })
    const r = p.cli("doctor")
    assert.strictEqual(r.status, 0, "a warning does not stop a run")
    assert.match(r.stdout, /^! notify\s+NOTIFY_DOCTOR_HOOK is not set: those webhooks get no notices$/m)
    assert.match(r.stdout, /fix: export NOTIFY_DOCTOR_HOOK=https:\/\/…, or remove the webhook from \[notify\]/)

    const bad = makeProject({ toml: '[[notify.webhooks]]\nurl_env = "https://hooks.example.com/x"\n' })
    const check = bad.cli("config", "check")
    assert.notStrictEqual(check.status, 0)
    assert.match(check.stdout + check.stderr, /notify\.webhooks\.0\.url_env.*environment variable name/)
  }, 120_000)
})
