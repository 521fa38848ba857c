import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { fakeGitHub, fakeLinear } from "../src/index.js"

const send = (url: string, init: { method?: string; headers?: Record<string, string>; body?: unknown } = {}) =>
  Effect.promise(async () => {
    const res = await fetch(url, {
      method: init.method ?? "GET",
      headers: { "content-type": "application/json", ...init.headers },
      ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {})
    })
    const text = await res.text()
    return { status: res.status, headers: res.headers, json: text === "" ? undefined : (JSON.parse(text) as any) }
  })

describe("FakeLinear wire protocol", () => {
  it.live("answers a valid query with data, Linear's rate-limit headers and connection shapes", () =>
    Effect.gen(function* () {
      const linear = yield* fakeLinear()
      linear.addIssue({ title: "one", state: "Ready", labels: ["a"] })
      const res = yield* send(linear.url, {
        method: "POST",
        headers: { authorization: linear.token },
        body: {
          query:
            'query { issues(first: 10, filter: { state: { name: { eq: "Ready" } } }) { nodes { identifier state { name type } labels { nodes { name } } } pageInfo { hasNextPage endCursor } } }'
        }
      })
      assert.strictEqual(res.status, 200)
      assert.deepStrictEqual(res.json.data.issues.nodes, [
        { identifier: "SON-1", state: { name: "Ready", type: "unstarted" }, labels: { nodes: [{ name: "a" }] } }
      ])
      assert.strictEqual(res.json.data.issues.pageInfo.hasNextPage, false)
      assert.strictEqual(res.headers.get("x-ratelimit-requests-limit"), "2500")
      assert.strictEqual(res.headers.get("x-ratelimit-requests-remaining"), "2499")
      assert.isTrue(Number(res.headers.get("x-ratelimit-requests-reset")) > Date.now())
    })
  )

  it.live(
    "rejects an invalid document with 400 GRAPHQL_VALIDATION_FAILED and a bad key with 401 AUTHENTICATION_ERROR",
    () =>
      Effect.gen(function* () {
        const linear = yield* fakeLinear()
        const invalid = yield* send(linear.url, {
          method: "POST",
          headers: { authorization: linear.token },
          body: { query: "{ issues { nodes { nosuchfield } } }" }
        })
        assert.strictEqual(invalid.status, 400)
        assert.strictEqual(invalid.json.errors[0].extensions.code, "GRAPHQL_VALIDATION_FAILED")
        assert.match(invalid.json.errors[0].message, /Cannot query field "nosuchfield" on type "Issue"/)
        const syntax = yield* send(linear.url, {
          method: "POST",
          headers: { authorization: linear.token },
          body: { query: "{ issues { " }
        })
        assert.strictEqual(syntax.status, 400)
        assert.strictEqual(syntax.json.errors[0].extensions.code, "GRAPHQL_PARSE_FAILED")
        const unauthorized = yield* send(linear.url, {
          method: "POST",
          headers: { authorization: "lin_api_wrong" },
          body: { query: "{ viewer { id } }" }
        })
        assert.strictEqual(unauthorized.status, 401)
        assert.deepStrictEqual(unauthorized.json.errors[0].extensions.code, "AUTHENTICATION_ERROR")
        assert.deepStrictEqual(unauthorized.json.errors[0].extensions.type, "authentication error")
        const missing = yield* send(linear.url, {
          method: "POST",
          headers: { authorization: `Bearer ${linear.token}` },
          body: { query: '{ issue(id: "SON-9") { id } }' }
        })
        assert.strictEqual(missing.status, 200)
        assert.strictEqual(missing.json.data, null)
        assert.strictEqual(missing.json.errors[0].message, "Entity not found: Issue")
        assert.strictEqual(missing.json.errors[0].extensions.code, "INPUT_ERROR")
      })
  )

  it.live("answers RATELIMITED (HTTP 400) once the window's budget is spent", () =>
    Effect.gen(function* () {
      const linear = yield* fakeLinear()
      linear.rateLimit(1, 60_000)
      const body = { query: "{ viewer { id isMe } }" }
      const ok = yield* send(linear.url, { method: "POST", headers: { authorization: linear.token }, body })
      assert.strictEqual(ok.json.data.viewer.isMe, true)
      const limited = yield* send(linear.url, { method: "POST", headers: { authorization: linear.token }, body })
      assert.strictEqual(limited.status, 400)
      assert.strictEqual(limited.json.errors[0].extensions.code, "RATELIMITED")
      assert.strictEqual(limited.headers.get("x-ratelimit-requests-remaining"), "0")
      assert.deepStrictEqual(
        linear.requests.map((r) => [r.route, r.status]),
        [
          ["viewer", 200],
          ["viewer", 400]
        ]
      )
    })
  )

  it.live("runs the mutations spec-orch sends, changing the state tests read", () =>
    Effect.gen(function* () {
      const linear = yield* fakeLinear()
      const issue = linear.addIssue({ title: "x", state: "Todo" })
      const post = (query: string, variables: unknown) =>
        send(linear.url, { method: "POST", headers: { authorization: linear.token }, body: { query, variables } })
      const created = yield* post(
        "mutation createComment($input: CommentCreateInput!) { commentCreate(input: $input) { __typename lastSyncId success comment { id } } }",
        { input: { issueId: issue.identifier, body: "hello" } }
      )
      assert.strictEqual(created.json.data.commentCreate.success, true)
      const states = yield* post(
        '{ teams(filter: { key: { eq: "SON" } }) { nodes { states { nodes { id name } } } } }',
        {}
      )
      const done = states.json.data.teams.nodes[0].states.nodes.find((s: any) => s.name === "Done")
      yield* post(
        "mutation updateIssue($id: String!, $input: IssueUpdateInput!) { issueUpdate(id: $id, input: $input) { success issue { id } } }",
        { id: issue.id, input: { stateId: done.id } }
      )
      assert.strictEqual(linear.issue(issue.identifier).state, "Done")
      assert.deepStrictEqual(
        linear.comments(issue.identifier).map((c) => c.body),
        ["hello"]
      )
    })
  )
})

describe("FakeGitHub wire protocol", () => {
  it.live("pages with Link headers and sends the primary rate-limit headers", () =>
    Effect.gen(function* () {
      const github = yield* fakeGitHub()
      github.addRepo("o/r")
      for (let i = 0; i < 5; i++) github.addIssue("o/r", { title: `i${i}` })
      const first = yield* send(`${github.url}/repos/o/r/issues?per_page=2`, {
        headers: { authorization: `token ${github.token}` }
      })
      assert.strictEqual(first.status, 200)
      assert.deepStrictEqual(
        first.json.map((i: any) => i.number),
        [5, 4]
      )
      assert.match(first.headers.get("link") ?? "", /<[^>]+page=2[^>]*>; rel="next", <[^>]+page=3[^>]*>; rel="last"/)
      assert.strictEqual(first.headers.get("x-ratelimit-limit"), "5000")
      assert.strictEqual(first.headers.get("x-ratelimit-used"), "1")
      assert.strictEqual(first.headers.get("x-ratelimit-resource"), "core")
    })
  )

  it.live("answers GitHub's error bodies: 401, 404, 422 and an exhausted limit", () =>
    Effect.gen(function* () {
      const github = yield* fakeGitHub({ rateLimitStatus: 429 })
      github.addRepo("o/r")
      github.setBranch("o/r", "main", "1".repeat(40))
      github.setBranch("o/r", "topic", "2".repeat(40))
      const auth = { authorization: `Bearer ${github.token}` }
      const bad = yield* send(`${github.url}/repos/o/r`, { headers: { authorization: "token nope" } })
      assert.deepStrictEqual([bad.status, bad.json.message], [401, "Bad credentials"])
      const missing = yield* send(`${github.url}/repos/o/r/issues/7`, { headers: auth })
      assert.deepStrictEqual([missing.status, missing.json.message], [404, "Not Found"])
      const pr = { title: "t", head: "topic", base: "main" }
      const created = yield* send(`${github.url}/repos/o/r/pulls`, { method: "POST", headers: auth, body: pr })
      assert.strictEqual(created.status, 201)
      assert.strictEqual(created.json.head.sha, "2".repeat(40))
      const duplicate = yield* send(`${github.url}/repos/o/r/pulls`, { method: "POST", headers: auth, body: pr })
      assert.strictEqual(duplicate.status, 422)
      assert.strictEqual(duplicate.json.message, "Validation Failed")
      assert.strictEqual(duplicate.json.errors[0].message, "A pull request already exists for o:topic.")
      github.rateLimit(3, 60_000) // the three authenticated requests above used the budget (a 401 does not count)
      const limited = yield* send(`${github.url}/repos/o/r`, { headers: auth })
      assert.strictEqual(limited.status, 429)
      assert.strictEqual(limited.headers.get("x-ratelimit-remaining"), "0")
      assert.match(limited.json.message, /API rate limit exceeded/)
    })
  )

  it.live("injects a delay and extra headers on a route without changing the answer", () =>
    Effect.gen(function* () {
      const github = yield* fakeGitHub()
      github.addRepo("o/r")
      github.fail("GET /repos/{owner}/{repo}", { delayMs: 300, headers: { "x-injected": "yes" } })
      const started = Date.now()
      const res = yield* send(`${github.url}/repos/o/r`, { headers: { authorization: `token ${github.token}` } })
      assert.strictEqual(res.status, 200)
      assert.strictEqual(res.json.full_name, "o/r")
      assert.strictEqual(res.headers.get("x-injected"), "yes")
      assert.isAtLeast(Date.now() - started, 290, "the answer waited for the injected delay")
      const again = yield* send(`${github.url}/repos/o/r`, { headers: { authorization: `token ${github.token}` } })
      assert.strictEqual(again.headers.get("x-injected"), null, "a fault applies once unless times says otherwise")
    })
  )
})
