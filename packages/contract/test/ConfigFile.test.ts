import { assert, describe, it } from "@effect/vitest"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { parse as parseToml } from "smol-toml"
import { ConfigFile, configuredSteps, defaultConfig, formatProblem, parseConfig, parseIssueJson } from "../src/index.js"

const fixture = (name: string) => readFileSync(join(import.meta.dirname, "fixtures", name), "utf8")
const messages = (text: string) => parseConfig(text, "spec-orch.toml").problems.map(formatProblem)

describe("parseConfig", () => {
  it("loads every section the original spec-orch reads, unchanged and without warnings", () => {
    const { config, problems } = parseConfig(fixture("original.spec-orch.toml"), "spec-orch.toml")
    assert.deepStrictEqual(problems.map(formatProblem), [])
    assert.isDefined(config)
    assert.strictEqual(config!.issue.source, "linear")
    assert.strictEqual(config!.linear.team_key, "ENG")
    assert.deepStrictEqual(Object.keys(config!.verification), ["lint", "typecheck", "test", "build"])
    assert.strictEqual(config!.verification.test, "pytest -q")
    assert.strictEqual(config!.builder.adapter, "acpx")
    assert.strictEqual(config!.builder.timeout_seconds, 900)
    assert.strictEqual(config!.model_chains.reasoning!.primary, "primary_model")
    assert.deepStrictEqual(config!.model_chains.reasoning!.fallbacks, ["backup_model"])
    assert.strictEqual(config!.planner.fallbacks?.length, 1)
    assert.strictEqual(config!.daemon.max_concurrent, 2)
    assert.strictEqual(config!.spec.require_approval, false)
    assert.strictEqual(config!.evolution.policies.prompt_evolver!.trigger_on, "pass_rate_drop")
    assert.strictEqual(config!.github.base_branch, "trunk")
  })

  it("fills documented defaults when a section is absent", () => {
    const c = defaultConfig()
    assert.strictEqual(c.issue.source, "fixture")
    assert.strictEqual(c.issue.fixtures_dir, "fixtures/issues")
    assert.strictEqual(c.builder.timeout_seconds, 1800)
    assert.strictEqual(c.spec.require_approval, true)
    assert.strictEqual(c.daemon.consume_state, "Ready")
    assert.deepStrictEqual(c.daemon.exclude_labels, ["blocked", "needs-clarification"])
    assert.strictEqual(c.gate.policy, "gate.policy.yaml")
    assert.strictEqual(c.workspace.state_dir, ".spec-orch")
    assert.strictEqual(c.workspace.provision, true)
    assert.deepStrictEqual([c.workspace.copy, c.workspace.link], [[], []])
    assert.deepStrictEqual(c.verification, {})
  })

  it("gives exactly what the whole schema gives, though it validates only the sections a file has", () => {
    const texts = [
      fixture("original.spec-orch.toml"),
      readFileSync(join(import.meta.dirname, "../../../examples/hello-node/spec-orch.toml"), "utf8"),
      "",
      '[daemon]\nmax_concurrent = 3\n[models.fast]\nmodel = "m"\n[llm]\ndefault_model_ref = "fast"\n'
    ]
    for (const text of texts) {
      const { config, problems } = parseConfig(text, "spec-orch.toml")
      assert.deepStrictEqual(problems.map(formatProblem), [])
      // JSON, so that key order counts too: `config show` and every JSON output print it in this order.
      assert.strictEqual(JSON.stringify(config), JSON.stringify(ConfigFile.parse(parseToml(text))))
    }
    assert.strictEqual(JSON.stringify(defaultConfig()), JSON.stringify(ConfigFile.parse({})))
  })

  it("computes a section the file leaves out when it is first read, and keeps it", () => {
    const { config } = parseConfig('[builder]\nadapter = "codex"\n', "spec-orch.toml")
    const described = (key: string) => Object.getOwnPropertyDescriptor(config, key)!
    assert.isDefined(described("builder").value, "a section the file has is validated when the file is loaded")
    assert.isDefined(described("daemon").get, "a section the file leaves out is not built until it is read")
    const daemon = config!.daemon
    assert.strictEqual(daemon.consume_state, "Ready")
    assert.strictEqual(described("daemon").value, daemon, "once read, the section is a plain value")
    config!.daemon = { ...daemon, max_concurrent: 7 }
    assert.strictEqual(config!.daemon.max_concurrent, 7)
  })

  it("lets a [verification] step allow changing the worktree with may_modify, and nothing else does", () => {
    const { config, problems } = parseConfig(
      '[verification]\nfmt = { command = "ruff format .", may_modify = true }\ntest = "pytest"\n',
      "spec-orch.toml"
    )
    assert.deepStrictEqual(problems, [])
    assert.deepStrictEqual(configuredSteps(config!.verification), [
      { name: "fmt", command: "ruff format .", mayModify: true },
      { name: "test", command: "pytest" }
    ])
    assert.match(
      messages('[verification]\nfmt = { command = "x", may_modify = "yes" }\n')[0]!,
      /verification\.fmt\.may_modify: expected a boolean/
    )
    const issue = parseIssueJson(
      JSON.stringify({
        issue_id: "I-1",
        title: "t",
        summary: "s",
        verification_commands: { fmt: { command: "ruff format .", may_modify: true } }
      }),
      "I-1.json",
      "I-1"
    )
    assert.isUndefined(
      issue.issue!.verification![0]!.mayModify,
      "an issue (untrusted text) cannot allow a step to rewrite the worktree"
    )
  })

  it("reports an unknown key as a warning with its line and a did-you-mean", () => {
    const { config, problems } = parseConfig('[builder]\nadapter = "codex"\ntimeout_secnds = 10\n', "spec-orch.toml")
    assert.isDefined(config, "a warning does not stop the load")
    assert.deepStrictEqual(problems.map(formatProblem), [
      'spec-orch.toml:3:1: warning: builder.timeout_secnds: unknown key, ignored (did you mean "timeout_seconds"?)'
    ])
  })

  it("reports an unknown section as a warning", () => {
    const p = messages('[buildr]\nadapter = "x"\n')
    assert.strictEqual(p.length, 1)
    assert.match(p[0]!, /^spec-orch\.toml:1:1: warning: buildr: unknown key, ignored \(did you mean "builder"\?\)$/)
  })

  it("names file, line, key, expected and found for a wrong type", () => {
    const { config, problems } = parseConfig(
      '[daemon]\nmax_concurrent = "two"\nexclude_labels = "blocked"\n',
      "conf/spec-orch.toml"
    )
    assert.isUndefined(config)
    assert.deepStrictEqual(problems.map(formatProblem), [
      'conf/spec-orch.toml:2:1: error: daemon.max_concurrent: expected a number, found the string "two"',
      'conf/spec-orch.toml:3:1: error: daemon.exclude_labels: expected a list, found the string "blocked"'
    ])
  })

  it("rejects a fractional integer and a value out of range", () => {
    const p = messages("[daemon]\nmax_concurrent = 1.5\n[acceptance_evaluator]\nmin_confidence = 3\n")
    assert.match(p[0]!, /:2:1: error: daemon\.max_concurrent: expected an integer, found the number 1\.5/)
    assert.match(p[1]!, /:4:1: error: acceptance_evaluator\.min_confidence: .*found the integer 3/)
  })

  it("says in English what a number out of range should be (zod's messages, which zod/mini has only with a locale)", () => {
    assert.deepStrictEqual(messages("[daemon]\nmax_concurrent = 0\n[acceptance_evaluator]\nmin_confidence = 3\n"), [
      "spec-orch.toml:2:1: error: daemon.max_concurrent: Too small: expected number to be >0, found the integer 0",
      "spec-orch.toml:4:1: error: acceptance_evaluator.min_confidence: Too big: expected number to be <=1, found the integer 3"
    ])
  })

  it("reads [cluster]: sqlite by default, postgres with a runner address, and says what is wrong with a bad value", () => {
    const c = defaultConfig()
    assert.strictEqual(c.cluster.storage, "sqlite")
    assert.deepStrictEqual(c.cluster.shard_groups, ["default"])
    const { config, problems } = parseConfig(
      '[cluster]\nstorage = "postgres"\nurl_env = "PG"\nrunner_address = "10.0.0.5:34431"\nmax_concurrent_per_host = 2\nmax_concurrent_total = 4\n',
      "spec-orch.toml"
    )
    assert.deepStrictEqual(problems, [])
    assert.strictEqual(config!.cluster.runner_address, "10.0.0.5:34431")
    assert.strictEqual(config!.cluster.url_env, "PG")
    assert.match(
      messages('[cluster]\nstorage = "postgres"\n')[0]!,
      /cluster\.runner_address: storage = "postgres" needs this host's runner address/
    )
    assert.match(messages('[cluster]\nstorage = "mysql"\n')[0]!, /:2:1: error: cluster\.storage: /)
    assert.match(
      messages('[cluster]\nrunner_address = "http://10.0.0.5"\n')[0]!,
      /cluster\.runner_address: must be host:port/
    )
    assert.match(
      messages('[cluster]\nrunner_address = "h:70000"\n')[0]!,
      /cluster\.runner_address: the port must be between 1 and 65535/
    )
    assert.match(
      messages('[cluster]\nurl_env = "postgres://u:p@h/db"\n')[0]!,
      /cluster\.url_env: must be an environment variable name/
    )
    assert.match(messages("[cluster]\nshard_groups = []\n")[0]!, /cluster\.shard_groups: name at least one shard group/)
    assert.match(
      messages("[cluster]\nmax_concurrent_per_host = 5\nmax_concurrent_total = 2\n")[0]!,
      /cluster\.max_concurrent_per_host: is 5, more than max_concurrent_total \(2\)/
    )
    assert.match(messages("[cluster]\nshard_lock_expiry_seconds = 1\n")[0]!, /cluster\.shard_lock_expiry_seconds/)
  })

  it("points at the line of a TOML syntax error", () => {
    const p = messages('[issue]\nsource = "fixture"\n[builder\nadapter = 1\n')
    assert.strictEqual(p.length, 1)
    assert.match(p[0]!, /^spec-orch\.toml:3:\d+: error: not valid TOML/)
  })

  it("rejects a model chain that names an undefined model, with a hint", () => {
    const p = messages('[models.main]\nmodel = "m"\n[model_chains.c]\nprimary = "mian"\n')
    assert.deepStrictEqual(p, [
      'spec-orch.toml:4:1: error: model_chains.c.primary: refers to model "mian", which no [models.mian] section defines (did you mean "main"?)'
    ])
  })

  it("rejects an unknown builder adapter and a command adapter without a command", () => {
    assert.match(
      messages('[builder]\nadapter = "claude-code"\n')[0]!,
      /:2:1: error: builder\.adapter: unknown builder adapter "claude-code" \(did you mean "claude_code"\?\)/
    )
    assert.match(
      messages('[builder]\nadapter = "command"\n')[0]!,
      /builder\.adapter: the command adapter needs \[builder\] command/
    )
  })

  it("locates keys in inline tables, dotted keys and after multi-line arrays", () => {
    const text = '[verification]\nlint = [\n  "ruff",\n  "check",\n]\ntest = 5\n'
    assert.match(messages(text)[0]!, /^spec-orch\.toml:6:1: error: verification\.test: /)
  })
})
