/**
 * A policy's script and secrets, end to end with the real binary: a script is never redacted (a changed
 * script is not the one validated and approved), so one that holds a secret is refused instead. The
 * model's answer holding a token or the value of a configured secret variable proposes nothing, says why
 * by the secrets' names, and the value lands nowhere (terminal, proposals, state database, artifacts); an
 * approved policy whose script holds a secret configured since is not used by a run, which says so.
 */
import { assert, describe, it } from "@effect/vitest"
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs"
import { join, relative } from "node:path"
import { approvePolicy, GREETING_SCRIPT, passGreetings, POLICY_KEY, policyProject } from "./utils/policy.js"

const json = (text: string) => JSON.parse(text) as any

const filesUnder = (dir: string): Array<string> =>
  existsSync(dir)
    ? readdirSync(dir).flatMap((name) =>
        statSync(join(dir, name)).isDirectory() ? filesUnder(join(dir, name)) : [join(dir, name)]
      )
    : []

/** A GitHub token (by its shape; in no environment). */
const GH_TOKEN = `ghp_${"p0l1cy".repeat(6)}`
/** A value in the CLI's environment under a name that is not secret-looking until the config names it. */
const MARKER = "greeting-policy-v1-marker"

describe("spec-orch policy: secrets in a script", () => {
  it("refuses a distilled script that holds a token or a configured secret's value, naming them, and stores and shows neither value", async () => {
    let answer = `${GREETING_SCRIPT}\nGH_TOKEN=${GH_TOKEN} gh pr create --fill || true\necho '${POLICY_KEY}' > .key`
    const { p, server } = await policyProject(() => answer)
    try {
      await passGreetings(p, "S")
      const distilled = await p.cliAsync("policy", "distill", "greeting")
      assert.strictEqual(distilled.status, 1, distilled.stderr)
      assert.strictEqual(server.requests.length, 1)
      const shown = distilled.stdout + distilled.stderr
      assert.include(shown, "was refused, nothing was proposed")
      assert.include(shown, "script holds a secret (github-token, TEST_POLICY_KEY)")
      for (const value of [GH_TOKEN, POLICY_KEY]) assert.notInclude(shown, value)
      const asJson = await p.cliAsync("policy", "distill", "greeting", "--json")
      assert.strictEqual(asJson.status, 1)
      assert.include(json(asJson.stdout).refused, "TEST_POLICY_KEY")
      assert.strictEqual(json(asJson.stdout).proposal, undefined)
      assert.deepStrictEqual(json((await p.cliAsync("policy", "list", "--json")).stdout), [])
      assert.deepStrictEqual(json((await p.cliAsync("evolution", "proposals", "--json")).stdout), [])
      for (const f of filesUnder(join(p.root, ".spec-orch")))
        for (const value of [GH_TOKEN, POLICY_KEY])
          assert.notInclude(readFileSync(f, "latin1"), value, relative(p.root, f))

      // Without the secrets the same class is proposed, byte for byte what the model wrote.
      answer = GREETING_SCRIPT
      const clean = await p.cliAsync("policy", "distill", "greeting", "--json")
      assert.strictEqual(clean.status, 0, clean.stderr)
      assert.strictEqual(
        json(clean.stdout).proposal.content,
        `spec-orch policy: sh\nmatch-labels: ["greeting"]\n---\n${GREETING_SCRIPT}\n`
      )
    } finally {
      await server.close()
    }
  }, 900_000)

  it("does not run an approved policy whose script holds a secret configured since: the run says so and the agent runs", async () => {
    const { p, server } = await policyProject(() => `${GREETING_SCRIPT} # ${MARKER}`, {
      env: { GREETING_MARKER: MARKER }
    })
    try {
      await passGreetings(p, "T")
      const policy = await approvePolicy(p)
      for (const id of ["T-4", "T-5"])
        p.issue(id, { labels: ["greeting"], builder_prompt: "WRITE hello.txt hullo", target_files: ["hello.txt"] })
      const before = await p.cliAsync("run", "T-4", "--auto-approve", "--json")
      assert.strictEqual(before.status, 0, `the policy runs: ${before.stderr}`)
      assert.strictEqual(p.agentRuns().length, 3)

      // The variable becomes a secret: the script would now be written redacted, so it is not run at all.
      writeFileSync(
        join(p.root, "spec-orch.toml"),
        p.read("spec-orch.toml").replace("[builder]\n", '[builder]\nsecret_env = ["GREETING_MARKER"]\n')
      )
      const after = await p.cliAsync("run", "T-5", "--auto-approve", "--json")
      assert.strictEqual(after.status, 1, "the agent gets it wrong")
      assert.strictEqual(p.agentRuns().length, 4, "the agent ran instead")
      const dir = json(after.stdout).artifactsDir as string
      assert.isFalse(existsSync(join(dir, "policy.sh")))
      assert.notInclude(readFileSync(join(dir, "context.json"), "utf8"), policy.id)
      const log = (await p.cliAsync("logs", "T-5", "--json")).stdout.trim().split("\n").map(json)
      const note = log.find((e: any) => e.kind === "note" && e.data.text.startsWith(`policy ${policy.id} is not used`))
      assert.isDefined(note, JSON.stringify(log.filter((e: any) => e.kind === "note")))
      assert.include(note.data.text, "script holds a secret (GREETING_MARKER)")
      assert.include(note.data.text, "command runs instead")
    } finally {
      await server.close()
    }
  }, 900_000)
})
