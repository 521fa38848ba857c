import { assert, describe, it } from "@effect/vitest"
import { runFixture } from "./utils/fixtureSuites.js"

describe("requirePostgres", () => {
  it("fails a suite that needs PostgreSQL when there is none, saying what is missing, how to fix it and how to opt out", () => {
    const { status, results } = runFixture("needs-postgres.fixture.ts", {
      SPEC_ORCH_PG_URL: undefined,
      SPEC_ORCH_SKIP_POSTGRES: undefined
    })
    assert.strictEqual(status, 1)
    assert.deepStrictEqual(
      results.map((t) => [t.title, t.status]),
      [
        ["needs a PostgreSQL server", "failed"],
        ["talks to the server", "skipped"]
      ]
    )
    const message = results[0]!.failureMessages.join("\n")
    assert.include(
      message,
      "a PostgreSQL server is missing: set SPEC_ORCH_PG_URL to a server where you may create databases"
    )
    assert.include(message, "set SPEC_ORCH_SKIP_POSTGRES=1")
  })

  it("skips it, saying so in its name, only when SPEC_ORCH_SKIP_POSTGRES=1", () => {
    const { status, results } = runFixture("needs-postgres.fixture.ts", {
      SPEC_ORCH_PG_URL: undefined,
      SPEC_ORCH_SKIP_POSTGRES: "1"
    })
    assert.strictEqual(status, 0)
    assert.deepStrictEqual(
      results.map((t) => [t.fullName, t.status]),
      [
        [
          "a store on Postgres (skipped without a PostgreSQL server: SPEC_ORCH_SKIP_POSTGRES=1) talks to the server",
          "skipped"
        ]
      ]
    )
  })

  it("runs it when SPEC_ORCH_PG_URL names a server", () => {
    const { status, results } = runFixture("needs-postgres.fixture.ts", {
      SPEC_ORCH_PG_URL: "postgres://postgres@127.0.0.1:1/postgres"
    })
    assert.strictEqual(status, 0)
    assert.deepStrictEqual(
      results.map((t) => [t.title, t.status]),
      [["talks to the server", "passed"]]
    )
  })
})
