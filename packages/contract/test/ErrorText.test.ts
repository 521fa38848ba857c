import { assert, describe, it } from "@effect/vitest"
import { SqlError } from "effect/sql"
import { renderError, Unexpected } from "../src/index.js"

describe("renderError", () => {
  it("says why a database query failed, not only that it did", () => {
    const pg = Object.assign(new Error('relation "cluster_runners" does not exist'), { code: "42P01" })
    const error = new SqlError.SqlError({
      reason: new SqlError.UnknownError({ cause: pg, message: "PgConnection: Query failed" })
    })
    assert.strictEqual(renderError(error), 'PgConnection: Query failed: relation "cluster_runners" does not exist')
  })

  it("keeps a tagged error's own message, and does not repeat a cause it already names", () => {
    const inner = new Unexpected({ message: "disk full" })
    assert.strictEqual(
      renderError(new Error("writing run.json: disk full", { cause: inner })),
      "writing run.json: disk full"
    )
    assert.strictEqual(renderError(new Unexpected({ message: "gone" })), "gone")
    assert.strictEqual(renderError("plain"), "plain")
    assert.strictEqual(renderError({ _tag: "Timeout" }), "Timeout")
  })
})
