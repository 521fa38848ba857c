import { assert, describe, it } from "@effect/vitest"
import { makeRedactor, policySecretProblem } from "../src/index.js"

const KEY = "k-learned-0123456789abcdef"
const { redact } = makeRedactor([{ name: "DEPLOY_KEY", value: KEY }])

describe("policySecretProblem", () => {
  it("accepts a script without secrets, even one that already shows a redaction mark", () => {
    assert.isUndefined(policySecretProblem(redact, "printf 'hello\\n' > hello.txt\n"))
    assert.isUndefined(policySecretProblem(redact, "echo '[redacted:DEPLOY_KEY]' > note.txt\n"))
  })

  it("names each secret the script holds by its variable or token shape, never by its value", () => {
    const token = `ghp_${"a1".repeat(18)}`
    const problem = policySecretProblem(redact, `echo '[redacted:x]'\ncurl -u ${KEY} x\nGH=${token} gh pr list\n`)
    assert.isDefined(problem)
    assert.include(problem!, "script holds a secret (DEPLOY_KEY, github-token)")
    assert.notInclude(problem!, KEY)
    assert.notInclude(problem!, token)
  })
})
