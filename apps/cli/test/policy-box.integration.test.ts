/**
 * A distilled policy cannot leave its box, end to end with the real binary and the OS sandbox required:
 * an approved policy whose script tries to read the main checkout, the state database, credential files in
 * the user's home and secrets in the environment (model providers' keys too: it calls no model), to write
 * the main checkout, its own `policy.sh` and the run's other artifacts, and to loosen the gate through its
 * branch, records what it saw in its worktree (committed on the run's branch). It saw none of it, changed none of it, no secret reaches anything the
 * run wrote, and the verdict comes from the main checkout's verification and gate policy. (The same escapes
 * by an agent are in redteam.integration.test.ts and gate.integration.test.ts.)
 */
import { assert, describe, it } from "@effect/vitest"
import { execFileSync } from "node:child_process"
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs"
import { join, relative } from "node:path"
import { approvePolicy, GREETING_SCRIPT, passGreetings, POLICY_KEY, policyProject } from "./utils/policy.js"
import type { TestProject } from "./utils/project.js"

const json = (text: string) => JSON.parse(text) as any

const filesUnder = (dir: string): Array<string> =>
  existsSync(dir)
    ? readdirSync(dir).flatMap((name) =>
        statSync(join(dir, name)).isDirectory() ? filesUnder(join(dir, name)) : [join(dir, name)]
      )
    : []

/** A token in the CLI's environment (secret by its name), which no box may see. */
const DEPLOY_TOKEN = "policybox-deploy-token-material"
/** Model providers' keys in the CLI's environment: an agent gets its model's; a policy's script calls no model. */
const MODEL_KEYS = {
  ANTHROPIC_API_KEY: "policybox-anthropic-key-material",
  OPENAI_API_KEY: "policybox-openai-key-material"
}
/** A loosened gate policy, written on the run's branch. */
const LAX = "conditions:\\n  builder: { required: true }\\nprofiles:\\n  e2e:\\n    disable: [protected_paths]\\n"

/** Every escape, each reporting only what it got; then the class's real change. */
const hostile = (home: string) => (p: TestProject) =>
  [
    `MAIN='${p.root}'`,
    "{",
    `  echo '== main'; cat "$MAIN/only-in-main.txt"; ls -A "$MAIN"`,
    `  echo '== state'; head -c 64 "$MAIN/.spec-orch/state.db"`,
    `  echo '== home'; cat '${home}/.ssh/id_ed25519' '${home}/.config/gh/hosts.yml'`,
    `  echo '== env'; env`,
    `  echo '== writes'`,
    `  echo pwned > "$MAIN/pwned.txt" && echo 'wrote: main checkout'`,
    `  echo pwned >> "$MAIN/gate.policy.yaml" && echo 'wrote: main gate policy'`,
    `  echo pwned >> "$MAIN/spec-orch.toml" && echo 'wrote: main config'`,
    `  echo 'echo pwned' >> "$0" && echo 'wrote: own script'`,
    `  echo pwned > "$(dirname "$0")/evidence.json" && echo 'wrote: run artifacts'`,
    // (The box's HOME is its own: a write lands there, if anywhere; the host's home is checked below.)
    `  echo planted >> '${home}/.bashrc'`,
    `  echo '== done'`,
    "} > seen.txt 2>&1",
    `printf '${LAX}' > gate.policy.yaml`,
    GREETING_SCRIPT
  ].join("\n")

describe("spec-orch policy: the script's box", () => {
  it("reads no file of the main checkout, state, home or secret environment, writes none of them nor its own script, and the main checkout's gate judges it", async () => {
    // Not under /tmp, which the box replaces with its own: what hides these is the box's layout.
    const under = mkdtempSync("/var/tmp/policybox-")
    const home = mkdtempSync(join(under, "home-"))
    mkdirSync(join(home, ".ssh"))
    writeFileSync(
      join(home, ".ssh/id_ed25519"),
      "-----BEGIN OPENSSH PRIVATE KEY-----\npolicybox-private-key-material\n-----END OPENSSH PRIVATE KEY-----\n"
    )
    mkdirSync(join(home, ".config/gh"), { recursive: true })
    writeFileSync(join(home, ".config/gh/hosts.yml"), "github.com:\n  oauth_token: policybox-gh-oauth-material\n")
    const { p, server } = await policyProject(hostile(home), {
      sandboxMode: "required",
      under,
      env: { HOME: home, DEPLOY_TOKEN, ...MODEL_KEYS }
    })
    try {
      await passGreetings(p, "G")
      const policy = await approvePolicy(p)
      // A file only the main checkout has (never committed, so in no worktree).
      writeFileSync(join(p.root, "only-in-main.txt"), "policybox-main-only-material\n")
      const main = ["only-in-main.txt", "gate.policy.yaml", "spec-orch.toml", ".git/config"].map((f) => [f, p.read(f)])
      const script = policy.content.split("\n---\n")[1]!

      p.issue("G-4", {
        labels: ["greeting"],
        builder_prompt: "WRITE hello.txt hullo",
        target_files: ["hello.txt", "seen.txt"]
      })
      const r = await p.cliAsync("run", "G-4", "--auto-approve", "--json")
      assert.strictEqual(r.status, 1, r.stderr)
      const out = json(r.stdout)
      assert.strictEqual(p.agentRuns().length, 3, "the policy ran, not the agent")

      // What it saw, as committed on the run's branch.
      const seen = execFileSync("git", ["-C", out.worktree, "show", "HEAD:seen.txt"], { encoding: "utf8" })
      assert.include(seen, "== done", `the script ran to its end:\n${seen}`)
      assert.include(seen, "PATH=", "it did print its environment")
      for (const secret of [
        "policybox-main-only-material",
        "SQLite format",
        "policybox-private-key-material",
        "policybox-gh-oauth-material",
        "DEPLOY_TOKEN",
        DEPLOY_TOKEN,
        POLICY_KEY,
        ...Object.values(MODEL_KEYS),
        "wrote:"
      ])
        assert.notInclude(seen, secret, `the script saw or did it:\n${seen}`)
      assert.notInclude(seen.slice(seen.indexOf("== main"), seen.indexOf("== state")), "README.md", "main is hidden")

      // Nothing outside the worktree changed: the main checkout, the home, the run's script and artifacts.
      assert.deepStrictEqual(
        main.map(([f]) => [f, p.read(f!)]),
        main
      )
      assert.isFalse(existsSync(join(p.root, "pwned.txt")))
      assert.isFalse(existsSync(join(home, ".bashrc")))
      assert.strictEqual(readFileSync(join(out.artifactsDir, "policy.sh"), "utf8"), script)
      const evidence = json(readFileSync(join(out.artifactsDir, "evidence.json"), "utf8"))
      assert.strictEqual(evidence.builder.adapter, "command")

      // The verdict: the main checkout's verification passed, and its gate policy blocks the loosened copy.
      assert.deepStrictEqual(
        evidence.verification.steps.map((s: any) => [s.command.at(-1), s.outcome]),
        [["grep -qx hello hello.txt", "passed"]]
      )
      assert.include(readFileSync(join(out.worktree, "gate.policy.yaml"), "utf8"), "disable: [protected_paths]")
      assert.sameMembers(out.failed, ["protected_paths", "within_boundaries"], "judged by the main checkout's policy")
      const report = json(readFileSync(join(out.artifactsDir, "report.json"), "utf8"))
      assert.match(
        report.conditions.find((c: any) => c.condition === "protected_paths").reason,
        /gate\.policy\.yaml \(spec-orch's own configuration, changed\)/
      )

      // No secret in anything the run (or any earlier command) wrote.
      for (const f of filesUnder(join(p.root, ".spec-orch")))
        for (const secret of [DEPLOY_TOKEN, POLICY_KEY, "policybox-private-key-material"])
          assert.notInclude(readFileSync(f, "latin1"), secret, relative(p.root, f))
    } finally {
      await server.close()
    }
  }, 900_000)
})
