/**
 * The project the CLI benchmarks run in: a git repository with a `command` agent that writes
 * `out.txt` (after `agentSleep` seconds, when given), a verification step that is `true`, no spec
 * approval, worktrees in a temp directory of their own, and one fixture issue per id.
 */
import { execFileSync } from "node:child_process"
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

export const benchProject = (options: {
  readonly prefix: string
  readonly issues: ReadonlyArray<string>
  readonly agentSleep?: number
}) => {
  const repo = mkdtempSync(join(tmpdir(), `${options.prefix}-`))
  const worktrees = mkdtempSync(join(tmpdir(), `${options.prefix}-wt-`))
  const env = { ...process.env, SPEC_ORCH_COMPILE_CACHE: mkdtempSync(join(tmpdir(), "bench-v8-")) }
  const git = (...args: Array<string>) =>
    execFileSync("git", args, {
      cwd: repo,
      stdio: "ignore",
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: "b",
        GIT_AUTHOR_EMAIL: "b@b",
        GIT_COMMITTER_NAME: "b",
        GIT_COMMITTER_EMAIL: "b@b"
      }
    })
  mkdirSync(join(repo, "fixtures/issues"), { recursive: true })
  writeFileSync(
    join(repo, "agent.sh"),
    `#!/bin/sh\ncat > /dev/null\n${options.agentSleep !== undefined ? `sleep ${options.agentSleep}\n` : ""}echo done > out.txt\n`
  )
  writeFileSync(join(repo, ".gitignore"), ".spec-orch/\n")
  writeFileSync(
    join(repo, "spec-orch.toml"),
    [
      "[builder]",
      'adapter = "command"',
      `command = ["sh", ${JSON.stringify(join(repo, "agent.sh"))}]`,
      "[verification]",
      'check = ["true"]',
      "[spec]",
      "require_approval = false",
      "[workspace]",
      `root = ${JSON.stringify(worktrees)}`,
      ""
    ].join("\n")
  )
  for (const id of options.issues)
    writeFileSync(
      join(repo, `fixtures/issues/${id}.json`),
      JSON.stringify({ issue_id: id, title: "bench", summary: "s", builder_prompt: "write out.txt" })
    )
  git("init", "-q")
  git("add", "-A")
  git("commit", "-qm", "init")
  return { repo, worktrees, env, git }
}
