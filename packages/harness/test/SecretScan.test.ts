import { assert, describe, it } from "@effect/vitest"
import { createRepo, makeTempDir } from "@spec-orch/test-kit"
import { Effect, Layer } from "effect"
import { addedLines, ENV_VALUE_RULE, Redactor, SecretScan } from "../src/index.js"

// Token-shaped test values are assembled at run time so that this file itself holds no token.
const GITHUB = `ghp_${"R4nd0mT0k3nV4lu3F0rT3st1ng0123456789".slice(0, 36)}`
const AWS_ID = "AKIA" + "Z7XQ4M2PLK9VHT3B"
const ENV_VALUE = "deploy-key-7f3e9a1c"

const lines = (n: number, prefix: string) => `${Array.from({ length: n }, (_, i) => `${prefix} ${i + 1}`).join("\n")}\n`

/** A real repository and the diff of a change that adds secrets at known lines, as `git diff` prints it for a run. */
const leakyDiff = () => {
  const repo = createRepo(makeTempDir(), {
    files: {
      "src/config.ts": lines(10, "// line"),
      "old/secret.ts": `export const t = "${GITHUB}"\n`,
      "src/keep.ts": `const a = 1\nconst old = "${GITHUB}"\n`
    }
  })
  const base = repo.head()
  const config = lines(10, "// line").split("\n")
  // The token lands on line 6 of the new file, after a comment that would switch secretlint off.
  config.splice(4, 0, "// secretlint-disable", `export const token = "${GITHUB}"`)
  repo.git("rm", "-q", "old/secret.ts")
  repo.commit("leak", {
    "src/config.ts": config.join("\n"),
    "deploy/aws.env": `REGION=eu-west-1\n# keys\nAWS_ACCESS_KEY_ID=${AWS_ID}\n`,
    "src/keep.ts": "const a = 1\n",
    "scripts/café deploy.sh": `#!/bin/sh\n++ not a header\ncurl -H "x-key: ${ENV_VALUE}" https://example.test\n`
  })
  return repo.git(
    "diff",
    "-p",
    "--no-renames",
    "--no-color",
    "--no-ext-diff",
    "--src-prefix=a/",
    "--dst-prefix=b/",
    base,
    "HEAD"
  )
}

const scan = (diff: string) =>
  SecretScan.use((s) => s.scan(diff)).pipe(
    Effect.provide(SecretScan.layer.pipe(Layer.provide(Redactor.layerFrom({ DEPLOY_TOKEN: ENV_VALUE }))))
  )

describe("SecretScan.scan", () => {
  it.effect(
    "finds a GitHub token, an AWS key id and a secret env value where the diff adds them, never quoting them",
    () =>
      Effect.gen(function* () {
        const findings = yield* scan(leakyDiff())
        assert.deepStrictEqual(
          findings.map((f) => [f.file, f.line, f.rule]),
          [
            ["deploy/aws.env", 3, "@secretlint/secretlint-rule-aws"],
            ["scripts/café deploy.sh", 3, ENV_VALUE_RULE],
            ["src/config.ts", 6, "@secretlint/secretlint-rule-github"]
          ]
        )
        assert.strictEqual(findings[2]!.message, "found GitHub Token")
        assert.strictEqual(findings[1]!.message, "adds the value of the secret environment variable DEPLOY_TOKEN")
        for (const f of findings) {
          for (const secret of [GITHUB, AWS_ID, ENV_VALUE]) assert.notInclude(JSON.stringify(f), secret)
        }
      })
  )

  it.effect("finds nothing in a diff that only removes secrets or adds ordinary code", () =>
    Effect.gen(function* () {
      const repo = createRepo(makeTempDir(), { files: { "a.ts": `const t = "${GITHUB}"\n` } })
      const base = repo.head()
      repo.commit("clean", {
        "a.ts": "const t = process.env.GITHUB_TOKEN\n",
        "b.ts": "// sha 4f2a0c9d1e8b7a6c5d4e3f2a1b0c9d8e7f6a5b4c\n"
      })
      assert.deepStrictEqual(yield* scan(repo.git("diff", "-p", "--no-color", base, "HEAD")), [])
    })
  )
})

describe("addedLines", () => {
  it("numbers added lines in the new file and is not fooled by an added line that starts with ++", () => {
    const diff = [
      "diff --git a/x.txt b/x.txt",
      "--- a/x.txt",
      "+++ b/x.txt",
      "@@ -1,3 +1,4 @@",
      " one",
      "-two",
      "+++ b/fake.txt",
      "+2b",
      " three",
      "@@ -10 +11,2 @@",
      " ten",
      "+eleven",
      "\\ No newline at end of file",
      "diff --git a/gone.txt b/gone.txt",
      "--- a/gone.txt",
      "+++ /dev/null",
      "@@ -1 +0,0 @@",
      "-bye"
    ].join("\n")
    assert.deepStrictEqual(addedLines(diff), [
      {
        file: "x.txt",
        lines: [
          { line: 2, text: "++ b/fake.txt" },
          { line: 3, text: "2b" },
          { line: 12, text: "eleven" }
        ]
      }
    ])
  })
})
