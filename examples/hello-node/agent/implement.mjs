#!/usr/bin/env node
// A stand-in coding agent for the quick start: the `command` adapter runs it in the run's worktree
// with the prompt on stdin. It makes the change HELLO-1 asks for, deterministically, so the demo
// needs no network and no API key. Swap [builder] adapter for claude_code, codex, … to use a real one.
// It prints one JSON event per line, which the command adapter shows as the agent's activity.
import { readFileSync, writeFileSync } from "node:fs"

const say = (event) => console.log(JSON.stringify(event))
const prompt = readFileSync(0, "utf8")
if (!/farewell/i.test(prompt)) {
  say({ type: "error", message: "this demo agent only knows how to add farewell()" })
  process.exit(1)
}
say({ type: "message", text: "Adding farewell(name) to src/greet.js and a test for it." })

const source = readFileSync("src/greet.js", "utf8")
writeFileSync(
  "src/greet.js",
  `${source}\n/** Says goodbye to someone by name. */\nexport const farewell = (name) => \`Goodbye, \${name}!\`\n`
)
say({ type: "file_change", path: "src/greet.js", kind: "update" })

const test = readFileSync("test/greet.test.js", "utf8").replace("import { greet }", "import { farewell, greet }")
writeFileSync(
  "test/greet.test.js",
  `${test}\ntest("farewell says goodbye", () => {\n  assert.equal(farewell("Ada"), "Goodbye, Ada!")\n})\n`
)
say({ type: "file_change", path: "test/greet.test.js", kind: "update" })

say({ type: "result", text: "Added farewell() with a test." })
