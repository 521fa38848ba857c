import { assert, describe, it } from "@effect/vitest"
import { spawn } from "node:child_process"
import { join } from "node:path"

// The bundled binary (the CLI's tests run after its build).
const bin = join(import.meta.dirname, "../dist/spec-orch.cjs")

/**
 * Runs `spec-orch --wizard` on a pseudo-terminal (util-linux `script`), as a person would: each time the
 * next of `answers`' prompts appears, types its keys. Returns what it showed and its exit code.
 */
const wizard = (answers: ReadonlyArray<readonly [prompt: string, keys: string]>) =>
  new Promise<{ output: string; code: number | null }>((resolve, reject) => {
    const child = spawn("script", ["-qfec", `${process.execPath} ${bin} --wizard`, "/dev/null"], {
      stdio: ["pipe", "pipe", "pipe"],
      env: { ...process.env, TERM: "xterm", SPEC_ORCH_COMPILE_CACHE: "off" }
    })
    let output = ""
    let next = 0
    let seen = 0
    const onData = (chunk: Buffer) => {
      output += chunk.toString("utf8")
      const answer = answers[next]
      if (answer === undefined) return
      const at = output.indexOf(answer[0], seen)
      if (at === -1) return
      seen = at + answer[0].length
      next += 1
      child.stdin.write(answer[1])
    }
    child.stdout.on("data", onData)
    child.stderr.on("data", onData)
    child.on("error", reject)
    child.on("close", (code) => resolve({ output, code }))
  })

describe("spec-orch --wizard", () => {
  // Node's terminal is set up on first use (main.ts): the wizard is what uses it, and must still read keys.
  it("asks on the terminal and reads the keys typed there: n moves on, Ctrl+C cancels", async () => {
    const { output } = await wizard([
      ["Set Cwd (--cwd)?", "n"],
      ["Set Config (--config)?", "\u0003"]
    ])
    assert.include(output, "Command wizard")
    assert.include(output, "Wizard cancelled.")
  })
})
