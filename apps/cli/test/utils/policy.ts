/**
 * A distilled policy in a test project (see policy.integration.test.ts): the scripted model server answers
 * `policy distill` with one fenced sh script, issues labelled `greeting` pass with the stand-in agent, and
 * `approvePolicy` distills, validates (by numbers) and approves the class's policy as "ana".
 */
import { type ModelServer, startModelServer } from "@spec-orch/test-kit"
import { assert } from "@effect/vitest"
import { modelChainToml } from "./model-config.js"
import { makeProject, type TestProject } from "./project.js"

/** The planner model's key: a configured secret (`api_key_env`), so redacted everywhere. */
export const POLICY_KEY = "k-policy-0123456789abcdef"

/** Every role's model chain is the scripted server (key and URL from `TEST_POLICY_KEY`, `TEST_POLICY_BASE`). */
export const POLICY_MODELS = modelChainToml("TEST_POLICY_KEY", "TEST_POLICY_BASE")

/** The script of the greeting class: what the stand-in agent does for `WRITE hello.txt hello`. */
export const GREETING_SCRIPT = "printf 'hello\\n' > hello.txt"

/**
 * A project whose model answers every distillation with `script(project)` in one ```sh block, verified by
 * `hello.txt` holding `hello`; close the server when done.
 */
export const policyProject = async (
  script: (p: TestProject) => string,
  options: Pick<NonNullable<Parameters<typeof makeProject>[0]>, "env" | "sandboxMode" | "under" | "workspace"> = {}
): Promise<{ readonly p: TestProject; readonly server: ModelServer }> => {
  let project: TestProject | undefined
  const server = await startModelServer({ script: () => ({ text: `\`\`\`sh\n${script(project!)}\n\`\`\`\n` }) })
  project = makeProject({
    verification: { greeting: "grep -qx hello hello.txt" },
    toml: POLICY_MODELS,
    ...options,
    env: { TEST_POLICY_KEY: POLICY_KEY, TEST_POLICY_BASE: server.url, ...options.env }
  })
  return { p: project, server }
}

const json = (text: string) => JSON.parse(text) as any

/** Issues `<prefix>-1..3`, labelled `greeting`, each passing with the stand-in agent (a policy candidate). */
export const passGreetings = async (p: TestProject, prefix: string): Promise<void> => {
  for (const n of [1, 2, 3]) {
    const id = `${prefix}-${n}`
    p.issue(id, { labels: ["greeting"], builder_prompt: "WRITE hello.txt hello", target_files: ["hello.txt"] })
    const r = await p.cliAsync("run", id, "--auto-approve")
    assert.strictEqual(r.status, 0, `${id} passes: ${r.stderr}`)
  }
}

/** Distills the `greeting` candidate, validates it by numbers and approves it as ana; returns the proposal. */
export const approvePolicy = async (p: TestProject): Promise<{ readonly id: string; readonly content: string }> => {
  const distilled = await p.cliAsync("policy", "distill", "greeting", "--json")
  assert.strictEqual(distilled.status, 0, distilled.stderr)
  const proposal = json(distilled.stdout).proposal
  const validated = await p.cliAsync(
    "evolution",
    "validate",
    proposal.id,
    "--candidate",
    "10/10",
    "--baseline",
    "1/10",
    "--by",
    "ana"
  )
  assert.strictEqual(validated.status, 0, validated.stderr)
  const approved = await p.cliAsync("evolution", "approve", proposal.id, "--by", "ana")
  assert.strictEqual(approved.status, 0, approved.stderr)
  return { id: proposal.id, content: proposal.content }
}
