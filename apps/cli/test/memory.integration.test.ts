/**
 * Memory end to end with the real binary: a run that fails verification is recorded, `memory recall`
 * finds the failure by its words with the run it came from, the next attempt's builder prompt holds
 * it (fenced, listed in context.json), `memory forget` keeps it in history, and `[memory] enabled =
 * false` records and recalls nothing.
 */
import { assert, describe, it } from "@effect/vitest"
import { spawnSync } from "node:child_process"
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { bagOfWordsEmbedder, scripts, startModelServer } from "@spec-orch/test-kit"
import { BIN, makeProject } from "./utils/project.js"

const json = (text: string) => JSON.parse(text) as any

const failing = {
  builder_prompt: "WRITE src/a.txt a",
  verification: { unit: "echo 'parser: expected 2 but got 3' >&2; exit 1" },
  target_files: ["src/a.txt"]
}

/** The quick start's example (examples/hello-node) in a fresh repository, with a test of its own that fails. */
const quickStart = () => {
  const dir = mkdtempSync(join(tmpdir(), "memory-quickstart-"))
  cpSync(join(import.meta.dirname, "../../../examples/hello-node"), dir, { recursive: true })
  rmSync(join(dir, ".spec-orch"), { recursive: true, force: true })
  writeFileSync(
    join(dir, "spec-orch.toml"),
    `${readFileSync(join(dir, "spec-orch.toml"), "utf8")}\n[workspace]\nroot = ${JSON.stringify(mkdtempSync(join(tmpdir(), "memory-quickstart-wt-")))}\n`
  )
  writeFileSync(
    join(dir, "test/polite.test.js"),
    `import assert from "node:assert/strict"\nimport { test } from "node:test"\nimport { greet } from "../src/greet.js"\n\ntest("greets politely", () => {\n  assert.equal(greet("Ada"), "Good day, Ada!")\n})\n`
  )
  const git = (...args: Array<string>) =>
    spawnSync("git", ["-c", "user.name=q", "-c", "user.email=q@q", ...args], { cwd: dir, encoding: "utf8" })
  git("init", "-q")
  git("add", "-A")
  git("commit", "-qm", "hello-node example with a failing test")
  return (...args: Array<string>) =>
    spawnSync(process.execPath, [BIN, ...args], { cwd: dir, encoding: "utf8", timeout: 120_000 })
}

describe("spec-orch memory", () => {
  it("after the quick-start run twice, memory recall finds the first run's failure, and the second builder was told", () => {
    const cli = quickStart()
    const first = cli("run", "HELLO-1", "--auto-approve", "--json")
    assert.strictEqual(json(first.stdout).status, "blocked", first.stderr)
    const second = cli("run", "HELLO-1", "--json")
    assert.strictEqual(json(second.stdout).runId, "HELLO-1-r2", second.stderr)

    const recall = cli("memory", "recall", "Good day", "--json")
    assert.strictEqual(recall.status, 0, recall.stderr)
    const hit = json(recall.stdout)[0]
    assert.strictEqual(hit.kind, "verification-failed")
    assert.deepStrictEqual(hit.provenance.runIds, ["HELLO-1-r1", "HELLO-1-r2"])
    assert.match(
      hit.content,
      /^Verification step test \(npm test --silent\) failed \(exit 1\) in runs HELLO-1-r1, HELLO-1-r2\. Key lines: [\s\S]*expected: 'Good day, Ada!'[\s\S]*Output ends: /
    )
    assert.notInclude(hit.content, "node:internal", "stack frames are left out")
    const text = cli("memory", "recall", "Good day", "--scope", "issue:HELLO-1")
    assert.match(text.stdout, /verification-failed\s+issue:HELLO-1/)

    const root = JSON.parse(first.stdout).artifactsDir as string
    assert.notInclude(readFileSync(join(root, "prompt.md"), "utf8"), "Learned from earlier runs")
    const prompt = readFileSync(join(json(second.stdout).artifactsDir, "prompt.md"), "utf8")
    assert.match(
      prompt,
      /## Learned from earlier runs\n\n<untrusted-data source="spec-orch memory of earlier runs">\n[\s\S]*Good day, Ada![\s\S]*\(from HELLO-1-r1\)/
    )
  })

  it("scopes, --all, show and forget; the learning's id is in context.json", () => {
    const p = makeProject()
    p.issue("MEM-1", failing)
    assert.strictEqual(p.cli("run", "MEM-1", "--auto-approve", "--json").status, 1)
    const second = p.cli("run", "MEM-1", "--json")
    assert.strictEqual(json(second.stdout).runId, "MEM-1-r2", second.stderr)

    const recall = p.cli("memory", "recall", "expected 2 but got 3", "--json")
    assert.strictEqual(recall.status, 0, recall.stderr)
    const hits = json(recall.stdout)
    assert.strictEqual(hits[0].kind, "verification-failed")
    assert.include(hits[0].content, "parser: expected 2 but got 3")
    assert.include(hits[0].scopes, "issue:MEM-1")
    // The second run failed the same way: its entry names both runs and superseded r1's.
    assert.deepStrictEqual(hits[0].provenance.runIds, ["MEM-1-r1", "MEM-1-r2"])
    const all = json(p.cli("memory", "list", "--kind", "verification-failed", "--all", "--json").stdout)
    assert.deepStrictEqual(
      all.map((e: any) => [e.provenance.runIds, e.closedReason]),
      [
        [["MEM-1-r1", "MEM-1-r2"], null],
        [["MEM-1-r1"], "superseded"]
      ]
    )

    const prompt = readFileSync(join(p.root, ".spec-orch/runs/MEM-1-r2/prompt.md"), "utf8")
    assert.match(
      prompt,
      /## Learned from earlier runs\n\n<untrusted-data source="spec-orch memory of earlier runs">\n[\s\S]*parser: expected 2 but got 3[\s\S]*\(from MEM-1-r1\)/
    )
    const firstPrompt = readFileSync(join(p.root, ".spec-orch/runs/MEM-1-r1/prompt.md"), "utf8")
    assert.notInclude(firstPrompt, "Learned from earlier runs")
    const context = json(readFileSync(join(p.root, ".spec-orch/runs/MEM-1-r2/context.json"), "utf8"))
    assert.isTrue(JSON.stringify(context).includes(all[1].id), "context.json lists the learning's id")

    const scoped = json(p.cli("memory", "recall", "expected", "--scope", "file:src/a.txt", "--json").stdout)
    assert.isTrue(scoped.length > 0)
    assert.strictEqual(
      json(p.cli("memory", "recall", "expected", "--scope", "file:src/other.txt", "--json").stdout).length,
      0
    )

    const text = p.cli("memory", "recall", "expected 2 but got 3")
    assert.match(text.stdout, /verification-failed/)
    const forgot = p.cli("memory", "forget", hits[0].id, "--json")
    assert.strictEqual(forgot.status, 0, forgot.stderr)
    assert.strictEqual(json(forgot.stdout).closedReason, "forgotten")
    assert.notInclude(p.cli("memory", "recall", "expected 2 but got 3", "--json").stdout, hits[0].id)
    assert.match(p.cli("memory", "show", hits[0].id).stdout, /forgotten/)
  })

  it("a person's review, acceptance and findings reach memory with their ids, and the acceptance supersedes the block", () => {
    const p = makeProject()
    p.issue("MEM-3", { builder_prompt: "WRITE src/a.txt a" })
    assert.strictEqual(
      json(p.cli("run", "MEM-3", "--auto-approve", "--json", "--profile", "reviewed").stdout).status,
      "blocked"
    )
    const list = () =>
      json(p.cli("memory", "list", "--scope", "issue:MEM-3", "--limit", "50", "--json").stdout) as Array<any>
    assert.match(list().find((e) => e.kind === "run-outcome")?.content, /ended blocked: blocked by review/)

    const found = p.cli(
      "findings",
      "add",
      "MEM-3",
      "--source",
      "ada",
      "--description",
      "the greeting is rude",
      "--severity",
      "advisory",
      "--json"
    )
    assert.strictEqual(found.status, 0, found.stderr)
    const findingId = json(found.stdout).finding.id
    assert.strictEqual(
      p.cli("review-issue", "MEM-3", "--verdict", "pass", "--reviewed-by", "ada", "--summary", "reads well").status,
      0
    )
    assert.strictEqual(p.cli("accept-issue", "MEM-3", "--accepted-by", "bob").status, 0)

    const now = list()
    const of = (kind: string) => now.find((e) => e.kind === kind)
    assert.deepStrictEqual(of("finding")?.provenance.findingIds, [findingId])
    assert.include(of("finding")?.content, "the greeting is rude")
    assert.match(of("review")?.provenance.reviewIds[0], /^human:ada@/)
    assert.include(of("review")?.content, "reads well")
    assert.match(of("acceptance")?.provenance.reviewIds[0], /^acceptance:bob@/)
    assert.deepStrictEqual(of("acceptance")?.provenance.runIds, ["MEM-3-r1"])
    assert.match(of("run-outcome")?.content, /ended succeeded: mergeable[\s\S]*Accepted by bob\./)
    const history = json(p.cli("memory", "show", of("run-outcome").id, "--json").stdout).history as Array<any>
    assert.match(history[0].content, /blocked by review/)
    assert.strictEqual(history[0].closedReason, "superseded")
  })

  it("a finding added before any run reaches memory, and resolving it supersedes it", () => {
    const p = makeProject()
    const added = p.cli(
      "findings",
      "add",
      "MEM-5",
      "--source",
      "ada",
      "--description",
      "the cache key ignores the locale",
      "--severity",
      "blocking",
      "--json"
    )
    assert.strictEqual(added.status, 0, added.stderr)
    const id = json(added.stdout).finding.id
    const found = json(p.cli("memory", "recall", "cache locale", "--json").stdout)
    assert.deepStrictEqual(
      [found[0]?.kind, found[0]?.provenance.findingIds, found[0]?.provenance.runIds],
      ["finding", [id], []]
    )
    assert.strictEqual(p.cli("findings", "resolve", "MEM-5", id, "--resolved-by", "bob").status, 0)
    const now = json(p.cli("memory", "recall", "cache locale", "--json").stdout)
    assert.deepStrictEqual(
      now.map((e: any) => e.kind),
      ["finding-resolved"]
    )
    assert.match(now[0].content, /^Resolved by bob: \[blocking\] ada: the cache key ignores the locale/)
  })

  it("memory compact folds a scope's old entries into a summary that names its runs; the folded entries stay in history", () => {
    const p = makeProject()
    p.issue("MEM-4", { builder_prompt: "WRITE src/a.txt a" })
    p.cli("run", "MEM-4", "--auto-approve")
    p.cli("run", "MEM-4", "--auto-approve")
    const nothing = p.cli("memory", "compact", "--json")
    assert.strictEqual(nothing.status, 0, nothing.stderr)
    assert.deepStrictEqual(json(nothing.stdout).scopes, [], "the runs are younger than 30 days")
    const out = p.cli("memory", "compact", "--older-than", "0m", "--json")
    assert.strictEqual(out.status, 0, out.stderr)
    const result = json(out.stdout)
    assert.strictEqual(result.scopes[0].scope, "issue:MEM-4")
    const summary = json(p.cli("memory", "show", result.scopes[0].summaryId, "--json").stdout)
    assert.deepStrictEqual([summary.layer, summary.kind], ["semantic", "summary"])
    assert.deepStrictEqual(summary.provenance.runIds, ["MEM-4-r1", "MEM-4-r2"])
    assert.match(
      summary.content,
      /: 3 facts from 2 runs \(2 mergeable, 0 not\)\. Last outcome: Run MEM-4-r2 of MEM-4 \(attempt 2, command\) ended succeeded/
    )
    const open = json(p.cli("memory", "list", "--scope", "issue:MEM-4", "--json").stdout) as Array<any>
    assert.notInclude(
      open.map((e) => e.kind),
      "run-outcome"
    )
    const all = json(
      p.cli("memory", "list", "--scope", "issue:MEM-4", "--all", "--limit", "50", "--json").stdout
    ) as Array<any>
    assert.include(
      all.filter((e) => e.kind === "run-outcome").map((e) => e.closedReason),
      `compacted into ${summary.id}`
    )
    assert.match(p.cli("memory", "compact", "--older-than", "0m").stdout, /^Nothing to compact/)
    const bad = p.cli("memory", "compact", "--older-than", "30days")
    assert.strictEqual(bad.status, 2)
    assert.match(
      bad.stderr,
      /--older-than: expected a number and a unit, m \(minutes\), h, d or w \(e\.g\. 30d\), got "30days"/
    )
  })

  it("memory status, add and reindex, with the original's [memory] keys in spec-orch.toml", () => {
    const p = makeProject({
      toml: `[memory]\nprovider = "filesystem_qdrant"\n\n[memory.qdrant]\nmode = "local"\npath = ".spec_orch_qdrant"\ncollection = "spec_orch_memory"\nembedding_model = "BAAI/bge-small-zh-v1.5"\n`
    })
    const empty = p.cli("memory", "status", "--json")
    assert.strictEqual(empty.status, 0, empty.stderr)
    assert.deepStrictEqual(
      [json(empty.stdout).total, json(empty.stdout).lastRecordedAt, json(empty.stdout).index.ok],
      [0, null, true]
    )

    const missing = p.cli("memory", "add", "run the parser tests alone")
    assert.strictEqual(missing.status, 2)
    assert.match(missing.stderr, /say what the note is about with --scope <type>:<id>/)
    const added = p.cli(
      "memory",
      "add",
      "run the parser tests alone with --runInBand",
      "--scope",
      "file:src/parser.ts",
      "--by",
      "ada",
      "--json"
    )
    assert.strictEqual(added.status, 0, added.stderr)
    const note = json(added.stdout)
    assert.deepStrictEqual([note.layer, note.kind, note.tags], ["procedural", "note", ["source:human", "by:ada"]])
    assert.strictEqual(
      json(
        p.cli(
          "memory",
          "add",
          "run the parser tests alone with --runInBand",
          "--scope",
          "file:src/parser.ts",
          "--by",
          "ada",
          "--json"
        ).stdout
      ).id,
      note.id,
      "the same note again changes nothing"
    )
    assert.strictEqual(json(p.cli("memory", "recall", "runInBand", "--json").stdout)[0].id, note.id)

    const status = p.cli("memory", "status")
    assert.strictEqual(status.status, 0, status.stderr)
    assert.match(
      status.stdout,
      /database {2}.*\.spec-orch\/state\.db \(sqlite\)\nentries {3}1 holding now, 1 ever recorded\nlayers {4}working 0, episodic 0, semantic 0, procedural 1\nkinds {5}note 1\nlast {6}\d{4}-[^\n]+\nindex {5}ok/
    )
    const reindexed = p.cli("memory", "reindex", "--json")
    assert.strictEqual(reindexed.status, 0, reindexed.stderr)
    assert.deepStrictEqual(json(reindexed.stdout), { indexed: 1, index: { ok: true, missing: 0, problem: null } })
  })

  it("with [memory] embedding_model and compaction_role: search finds a note by meaning and says which ranking found it, a silent embedding server leaves full text, compact writes the model's summary listing the entries it replaced", async () => {
    const server = await startModelServer({
      script: scripts.textOnly("The login spec of MEM-9 is flaky on slow databases; nothing fixed it yet."),
      embedder: bagOfWordsEmbedder({ synonyms: { intermittent: "flaky", unreliable: "flaky" } })
    })
    try {
      const base = `${server.url}/v1`
      const p = makeProject({
        toml: [
          "[models.embed]",
          'model = "text-embedding-3-small"',
          'api_type = "openai"',
          'api_key_env = "TEST_MEMORY_KEY"',
          `api_base = "${base}"`,
          "[models.chat]",
          'model = "model-server-model"',
          'api_type = "openai"',
          'api_key_env = "TEST_MEMORY_KEY"',
          `api_base = "${base}"`,
          "[planner]",
          'model_ref = "chat"',
          "[memory]",
          'embedding_model = "embed"',
          'compaction_role = "planner"'
        ].join("\n"),
        env: { TEST_MEMORY_KEY: "sk-memory-cli-0123456789" }
      })
      const add = (text: string) =>
        p.cliAsync("memory", "add", text, "--scope", "issue:MEM-9", "--layer", "episodic", "--by", "ada", "--json")
      const first = await add("The login spec is flaky on slow databases")
      assert.strictEqual(first.status, 0, first.stderr)
      const second = await add("The reviewer asked for smaller commits")
      assert.strictEqual(second.status, 0, second.stderr)
      // Each command embedded what it recorded in the background, before it exited.
      const status = json((await p.cliAsync("memory", "status", "--json")).stdout)
      assert.deepStrictEqual(status.vectors, {
        state: "used",
        model: "embed/text-embedding-3-small",
        pending: 0
      })
      assert.strictEqual(server.embeddingRequests[0]!.path, "/v1/embeddings")

      const search = await p.cliAsync("memory", "search", "intermittent", "--json")
      assert.strictEqual(search.status, 0, search.stderr)
      const hits = json(search.stdout) as Array<any>
      assert.deepStrictEqual(
        hits.map((h) => [h.content, h.retrievers]),
        [["The login spec is flaky on slow databases", ["vector"]]]
      )
      const both = await p.cliAsync("memory", "recall", "unreliable login")
      assert.match(both.stdout, /FOUND BY[\s\S]*fts\+vector\s+The login spec is flaky/)

      // The embedding server stops answering: full text answers alone, after the bound, and says so.
      server.setEmbedder(() => ({ hang: true }))
      const silent = await p.cliAsync("memory", "search", "login", "--json")
      assert.strictEqual(silent.status, 0, silent.stderr)
      assert.deepStrictEqual(
        (json(silent.stdout) as Array<any>).map((h) => h.retrievers),
        [["fts"]]
      )
      assert.match(silent.stderr, /vector recall skipped, full text alone answered: .*no answer within 2 s/)
      server.setEmbedder(bagOfWordsEmbedder())

      const compacted = await p.cliAsync("memory", "compact", "--older-than", "0m", "--json")
      assert.strictEqual(compacted.status, 0, compacted.stderr)
      const result = json(compacted.stdout)
      assert.strictEqual(result.model, "[planner] model:chat")
      assert.deepStrictEqual(
        result.scopes.map((s: any) => [s.scope, s.folded, s.summarizer]),
        [["issue:MEM-9", 2, "llm"]]
      )
      const show = await p.cliAsync("memory", "show", result.scopes[0].summaryId)
      assert.strictEqual(show.status, 0, show.stderr)
      assert.match(show.stdout, /replaces {2}mem-[0-9a-f]{12}, mem-[0-9a-f]{12}\n/)
      assert.include(show.stdout, "The login spec of MEM-9 is flaky on slow databases; nothing fixed it yet.")
      const summary = json((await p.cliAsync("memory", "show", result.scopes[0].summaryId, "--json")).stdout)
      assert.sameMembers(summary.provenance.entryIds, [json(first.stdout).id, json(second.stdout).id])
    } finally {
      await server.close()
    }
  })

  it("says what is wrong with a malformed --scope and with an unknown id", () => {
    const p = makeProject()
    const bad = p.cli("memory", "recall", "x", "--scope", "src/a.ts")
    assert.strictEqual(bad.status, 2)
    assert.match(
      bad.stderr,
      /--scope: expected <type>:<id> with type one of issue, mission, file, adapter, project \(e\.g\. file:src\/x\.ts, issue:SPC-1\), got "src\/a\.ts"/
    )
    const missing = p.cli("memory", "forget", "mem-000000000000")
    assert.strictEqual(missing.status, 1)
    assert.match(missing.stderr, /no entry mem-000000000000; `spec-orch memory list` shows the ids/)
  })

  it("with [memory] enabled = false, runs are not recorded and prompts learn nothing", () => {
    const p = makeProject({ toml: "[memory]\nenabled = false\n" })
    p.issue("MEM-2", failing)
    p.cli("run", "MEM-2", "--auto-approve")
    p.cli("run", "MEM-2")
    assert.deepStrictEqual(json(p.cli("memory", "list", "--json").stdout), [])
    assert.notInclude(
      readFileSync(join(p.root, ".spec-orch/runs/MEM-2-r2/prompt.md"), "utf8"),
      "Learned from earlier runs"
    )
  })
})
