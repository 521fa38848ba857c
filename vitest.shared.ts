/** Shared vitest options for every package: tests live in `test/`, integration tests need SPEC_ORCH_INTEGRATION=1. */
import { fileURLToPath } from "node:url"
import { defineConfig } from "vitest/config"

const integration = process.env.SPEC_ORCH_INTEGRATION === "1"

export default defineConfig({
  test: {
    include: integration ? ["test/**/*.test.ts"] : ["test/**/*.test.ts"],
    exclude: integration ? ["**/node_modules/**"] : ["**/node_modules/**", "test/**/*.integration.test.ts"],
    runner: fileURLToPath(new URL("./vitest.runner.ts", import.meta.url)),
    testTimeout: 60_000,
    hookTimeout: 60_000
  }
})
