import { assert, describe, it } from "@effect/vitest"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { formatProblem, parseIssueJson, parseIssueMarkdown } from "../src/index.js"

const read = (rel: string) => readFileSync(join(import.meta.dirname, "fixtures", rel), "utf8")
const errors = (r: { problems: ReadonlyArray<Parameters<typeof formatProblem>[0]> }) =>
  r.problems.filter((p) => p.severity === "error").map(formatProblem)

describe("parseIssueJson", () => {
  it("loads the original fixture format with every field", () => {
    const { issue, problems } = parseIssueJson(read("project/fixtures/issues/DEMO-1.json"), "DEMO-1.json", "DEMO-1")
    assert.deepStrictEqual(problems, [])
    assert.strictEqual(issue!.id, "DEMO-1")
    assert.strictEqual(issue!.builderPrompt, 'Add GET /health to src/server.py returning {"ok": true}.')
    assert.deepStrictEqual(
      issue!.verification!.map((s) => s.name),
      ["lint", "test"]
    )
    assert.deepStrictEqual(
      issue!.acceptanceCriteria.map((c) => `${c.id} ${c.text}`),
      ["AC-1 GET /health returns 200", "AC-2 All verification steps pass"]
    )
    assert.deepStrictEqual(issue!.filesToRead, ["src/server.py"])
    assert.strictEqual(issue!.architectureNotes, "Flask app factory in src/server.py")
    assert.deepStrictEqual(issue!.constraints, ["No new dependencies"])
    assert.strictEqual(issue!.origin.kind, "fixture")
  })

  it("treats a null builder prompt as no builder step, and a list of shell strings as named steps", () => {
    const { issue } = parseIssueJson(read("project/fixtures/issues/DEMO-2.json"), "DEMO-2.json", "DEMO-2")
    assert.isUndefined(issue!.builderPrompt)
    assert.deepStrictEqual(
      issue!.verification!.map((s) => [s.name, s.command]),
      [
        ["step-1", "cd /tmp && true"],
        ["step-2", "echo second"]
      ]
    )
  })

  it("names the field, line and problem for missing and mistyped fields", () => {
    assert.deepStrictEqual(errors(parseIssueJson(read("bad-issues/BAD-1.json"), "BAD-1.json", "BAD-1")), [
      "BAD-1.json:1:1: error: summary: is required (a string)",
      "BAD-1.json:4:3: error: builder_prompt: expected a string, found the integer 42"
    ])
  })

  it("points at the line of invalid JSON", () => {
    const e = errors(parseIssueJson(read("bad-issues/BAD-2.json"), "BAD-2.json", "BAD-2"))
    assert.strictEqual(e.length, 1)
    assert.match(e[0]!, /^BAD-2\.json:5:\d+: error: not valid JSON/)
  })

  it("refuses an issue id that does not match the file name", () => {
    assert.deepStrictEqual(errors(parseIssueJson(read("bad-issues/BAD-3.json"), "BAD-3.json", "BAD-3")), [
      'BAD-3.json:2:3: error: issue_id: is "OTHER-9" but the file is named BAD-3 (rename the file to OTHER-9.json or change issue_id)'
    ])
  })

  it("reports every bad field at once: bad id, empty title, wrong step, wrong list", () => {
    const e = errors(parseIssueJson(read("bad-issues/BAD-4.json"), "BAD-4.json"))
    assert.strictEqual(e.length, 4)
    assert.match(e[0]!, /^BAD-4\.json:2:3: error: issue_id: an issue id is letters/)
    assert.match(e[1]!, /^BAD-4\.json:3:3: error: title: must not be empty/)
    assert.match(e[2]!, /^BAD-4\.json:5:\d+: error: verification_commands/)
    assert.match(e[3]!, /^BAD-4\.json:6:\d+: error: context\.files_to_read: expected a list, found the string "src\/"/)
  })
})

describe("parseIssueMarkdown", () => {
  it("reads front matter, summary, acceptance criteria, files and constraints", () => {
    const { issue, problems } = parseIssueMarkdown(read("project/fixtures/issues/DEMO-3.md"), "DEMO-3.md", "DEMO-3")
    assert.deepStrictEqual(problems, [])
    assert.strictEqual(issue!.title, "Document the CLI")
    assert.strictEqual(issue!.summary, "Write a usage section for the CLI in README.md.")
    assert.deepStrictEqual(issue!.labels, ["docs"])
    assert.strictEqual(issue!.runClass, "docs")
    assert.deepStrictEqual(
      issue!.acceptanceCriteria.map((c) => c.text),
      ["README has a Usage section", "Every command is listed"]
    )
    assert.deepStrictEqual(issue!.filesToRead, ["README.md"])
    assert.deepStrictEqual(issue!.constraints, ["Keep it under one page"])
    assert.match(issue!.builderPrompt!, /Write a usage section/)
    assert.strictEqual(issue!.origin.kind, "markdown")
  })

  it("keeps inline code in acceptance criteria and constraints, and unwraps a path written as code", () => {
    const md = [
      "---",
      "id: CODE-1",
      "title: Code spans",
      "---",
      "Summary.",
      "",
      "## Acceptance Criteria",
      "- `greet()` still returns `hello`",
      "- `npm test` passes",
      "",
      "## Constraints",
      "- do not touch `src/legacy.js`",
      "",
      "## Target Files",
      "- `src/greet.js`",
      "- test/greet.test.js",
      ""
    ].join("\n")
    const { issue, problems } = parseIssueMarkdown(md, "CODE-1.md", "CODE-1")
    assert.deepStrictEqual(problems, [])
    assert.deepStrictEqual(
      issue!.acceptanceCriteria.map((c) => c.text),
      ["`greet()` still returns `hello`", "`npm test` passes"]
    )
    assert.deepStrictEqual(issue!.constraints, ["do not touch `src/legacy.js`"])
    assert.deepStrictEqual(issue!.targetFiles, ["src/greet.js", "test/greet.test.js"])
  })

  it("names the line of broken front matter", () => {
    const e = errors(parseIssueMarkdown(read("bad-issues/BAD-5.md"), "BAD-5.md", "BAD-5"))
    assert.strictEqual(e.length, 1)
    assert.match(e[0]!, /^BAD-5\.md:\d+:\d+: error: front matter is not valid YAML/)
  })

  it("explains the expected shape when there is no front matter", () => {
    assert.match(errors(parseIssueMarkdown("# just a title\n", "X.md"))[0]!, /starts with YAML front matter/)
  })
})
