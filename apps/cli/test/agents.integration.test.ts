import { assert, describe, it } from "@effect/vitest"
import { ModelServer } from "@spec-orch/test-kit"
import { environmentProvider } from "@spec-orch/harness"
import { ConfigProvider, Effect } from "effect"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { cli } from "./cli.js"

// Needs the pinned agent CLIs in the tool cache (node scripts/install-agents.mjs).
describe("spec-orch agents check with a real CLI", () => {
  it.live(
    "finds Claude Code, says honestly that it was not exercised without credentials, and does not call that a pass",
    () =>
      Effect.gen(function* () {
        const dir = mkdtempSync(join(tmpdir(), "cli-agents-it-"))
        const env = Object.fromEntries(
          Object.entries(process.env).filter(
            (e): e is [string, string] =>
              e[1] !== undefined && !/^(ANTHROPIC_|CLAUDE_CODE_|SPEC_ORCH_AGENT_ENDPOINT)/.test(e[0])
          )
        )
        const r = yield* cli("--cwd", dir, "agents", "check", "--agent", "claude_code").pipe(
          Effect.provideService(ConfigProvider.ConfigProvider, environmentProvider(env))
        )
        assert.strictEqual(r.code, 1, r.stderr)
        assert.match(
          r.stdout,
          /binary found, version 2\.1\.331, not exercised: no credentials: set one of ANTHROPIC_API_KEY/
        )
      })
  )

  it.live(
    "completes a real turn against --model-server",
    () =>
      Effect.gen(function* () {
        const server = yield* ModelServer.scoped()
        const dir = mkdtempSync(join(tmpdir(), "cli-agents-it-"))
        const r = yield* cli("--cwd", dir, "agents", "check", "--agent", "claude_code", "--model-server", server.url)
        assert.strictEqual(r.code, 0, `${r.stdout}\n${r.stderr}`)
        assert.match(r.stdout, /ok: a trivial turn completed in/)
        assert.isAbove(server.requests.length, 0)
      }).pipe(Effect.scoped),
    120_000
  )
})
