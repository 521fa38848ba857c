import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { ModelServer, type ModelRequest, scripts, startModelServer } from "../src/index.js"

/** Parses an SSE body into `{ event, data }` records (`data` JSON-decoded when it can be). */
const parseSse = (text: string) =>
  text
    .split("\n\n")
    .filter((b) => b.trim() !== "")
    .map((block) => {
      const event = /^event: (.*)$/m.exec(block)?.[1]
      const raw = /^data: (.*)$/m.exec(block)?.[1] ?? ""
      let data: any = raw
      try {
        data = JSON.parse(raw)
      } catch {
        // keep the raw text ([DONE], broken JSON)
      }
      return { event, data, raw }
    })

const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  Effect.promise(() =>
    fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify(body)
    })
  )

const text = (res: Response) => Effect.promise(() => res.text())
const jsonOf = (res: Response) => Effect.promise(() => res.json() as Promise<any>)

const claudeTools = [
  {
    name: "Write",
    input_schema: {
      type: "object",
      properties: { file_path: { type: "string" }, content: { type: "string" } },
      required: ["file_path", "content"]
    }
  },
  {
    name: "Bash",
    input_schema: {
      type: "object",
      properties: { command: { type: "string" }, description: { type: "string" } },
      required: ["command"]
    }
  },
  { name: "web_search", type: "web_search_20250305" }
]
const claudeSystem = [
  { type: "text", text: "You are Claude Code.\nPrimary working directory: /tmp/work/repo\nIs a git repo: yes" }
]

describe("ModelServer: Anthropic Messages", () => {
  it.effect(
    "streams a Write tool call first, with an absolute path built from the system prompt's working directory",
    () =>
      Effect.gen(function* () {
        const server = yield* ModelServer.scoped()
        const res = yield* post(
          `${server.url}/v1/messages?beta=true`,
          {
            model: "claude-x",
            stream: true,
            system: claudeSystem,
            tools: claudeTools,
            messages: [{ role: "user", content: [{ type: "text", text: "write hello.txt" }] }]
          },
          { "x-api-key": "sk-test" }
        )
        assert.strictEqual(res.status, 200)
        assert.include(res.headers.get("content-type")!, "text/event-stream")
        const events = parseSse(yield* text(res))
        assert.deepStrictEqual(
          events.map((e) => e.event),
          [
            "message_start",
            "ping",
            "content_block_start",
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop"
          ]
        )
        assert.strictEqual(events[2]!.data.content_block.type, "tool_use")
        assert.strictEqual(events[2]!.data.content_block.name, "Write")
        const args = JSON.parse(events[3]!.data.delta.partial_json + events[4]!.data.delta.partial_json)
        assert.deepStrictEqual(args, { file_path: "/tmp/work/repo/hello.txt", content: "hi\n" })
        assert.strictEqual(events[6]!.data.delta.stop_reason, "tool_use")

        const [recorded] = server.requests
        assert.strictEqual(recorded!.api, "anthropic")
        assert.strictEqual(recorded!.path, "/v1/messages")
        assert.strictEqual(recorded!.cwd, "/tmp/work/repo")
        assert.strictEqual(recorded!.lastUserText, "write hello.txt")
        assert.strictEqual(recorded!.headers["x-api-key"], "sk-test")
        assert.deepStrictEqual(
          recorded!.tools.map((t) => t.name),
          ["Write", "Bash", "web_search"]
        )
        assert.isTrue(recorded!.stream)
      })
  )

  it.effect(
    "decides the step from the tool results in the conversation: shell after one, final text after two (JSON when not streaming)",
    () =>
      Effect.gen(function* () {
        const server = yield* ModelServer.scoped()
        const result = (id: string) => ({
          role: "user",
          content: [{ type: "tool_result", tool_use_id: id, content: "ok" }]
        })
        const one = yield* post(`${server.url}/v1/messages`, {
          model: "m",
          tools: claudeTools,
          messages: [{ role: "user", content: "go" }, result("a")]
        })
        const oneBody = yield* jsonOf(one)
        assert.strictEqual(oneBody.stop_reason, "tool_use")
        assert.deepStrictEqual(oneBody.content[0].name, "Bash")
        assert.strictEqual(oneBody.content[0].input.command, "cat hello.txt")

        const two = yield* post(`${server.url}/v1/messages`, {
          model: "m",
          tools: claudeTools,
          messages: [{ role: "user", content: "go" }, result("a"), result("b")]
        })
        const twoBody = yield* jsonOf(two)
        assert.strictEqual(twoBody.stop_reason, "end_turn")
        assert.deepStrictEqual(twoBody.content, [{ type: "text", text: "DONE" }])
        assert.deepStrictEqual(
          server.requests.map((r) => r.toolResults),
          [1, 2]
        )
      })
  )

  it.effect("answers tool-less side requests (titles, probes) with a short text without advancing the script", () =>
    Effect.gen(function* () {
      const server = yield* ModelServer.scoped()
      const res = yield* post(`${server.url}/v1/messages`, {
        model: "haiku",
        messages: [{ role: "user", content: "Generate a title for this chat" }]
      })
      const body = yield* jsonOf(res)
      assert.deepStrictEqual(body.content, [{ type: "text", text: "Test run" }])
      const count = yield* post(`${server.url}/v1/messages/count_tokens`, { messages: [] })
      assert.deepStrictEqual(yield* jsonOf(count), { input_tokens: 123 })
    })
  )

  it.effect("uses Edit with an empty old_string when Write is not offered (Claude --bare)", () =>
    Effect.gen(function* () {
      const server = yield* ModelServer.scoped()
      const edit = {
        name: "Edit",
        input_schema: {
          type: "object",
          properties: { file_path: {}, old_string: {}, new_string: {} },
          required: ["file_path", "old_string", "new_string"]
        }
      }
      const res = yield* post(`${server.url}/v1/messages`, {
        model: "m",
        tools: [edit],
        messages: [{ role: "user", content: "go" }]
      })
      const body = yield* jsonOf(res)
      assert.deepStrictEqual(body.content[0].input, { file_path: "hello.txt", old_string: "", new_string: "hi\n" })
    })
  )
})

describe("ModelServer: OpenAI Responses", () => {
  const codexTools = [
    {
      type: "function",
      name: "exec_command",
      parameters: {
        type: "object",
        properties: { cmd: { type: "string" }, workdir: { type: "string" } },
        required: ["cmd"]
      }
    },
    { type: "custom", name: "apply_patch", format: { type: "grammar" } },
    { type: "web_search" }
  ]
  const input = (extra: Array<unknown> = []) => [
    {
      type: "message",
      role: "user",
      content: [{ type: "input_text", text: "<environment_context><cwd>/w/repo</cwd></environment_context>" }]
    },
    { type: "message", role: "user", content: [{ type: "input_text", text: "make hello.txt" }] },
    ...extra
  ]

  it.effect(
    "streams an apply_patch custom tool call that adds the file, with sequence numbers and response.completed",
    () =>
      Effect.gen(function* () {
        const server = yield* ModelServer.scoped()
        const res = yield* post(`${server.url}/v1/responses`, {
          model: "gpt-5.5",
          stream: true,
          tools: codexTools,
          input: input()
        })
        const events = parseSse(yield* text(res))
        assert.deepStrictEqual(
          events.map((e) => e.event),
          [
            "response.created",
            "response.in_progress",
            "response.output_item.added",
            "response.custom_tool_call_input.delta",
            "response.custom_tool_call_input.done",
            "response.output_item.done",
            "response.completed"
          ]
        )
        assert.deepStrictEqual(
          events.map((e) => e.data.sequence_number),
          [0, 1, 2, 3, 4, 5, 6]
        )
        const item = events[5]!.data.item
        assert.strictEqual(item.type, "custom_tool_call")
        assert.strictEqual(item.input, "*** Begin Patch\n*** Add File: hello.txt\n+hi\n*** End Patch\n")
        assert.strictEqual(events[6]!.data.response.usage.total_tokens, 120)
        assert.strictEqual(server.requests[0]!.cwd, "/w/repo")
        assert.strictEqual(server.requests[0]!.lastUserText, "make hello.txt")
        assert.deepStrictEqual(
          server.requests[0]!.tools.map((t) => `${t.name}:${t.kind}`),
          ["exec_command:function", "apply_patch:custom"]
        )
      })
  )

  it.effect("then a function call to exec_command with the working directory, then the final message", () =>
    Effect.gen(function* () {
      const server = yield* ModelServer.scoped()
      const after1 = input([
        { type: "custom_tool_call", call_id: "c1", name: "apply_patch", input: "…" },
        { type: "custom_tool_call_output", call_id: "c1", output: "ok" }
      ])
      const res = yield* post(`${server.url}/v1/responses`, {
        model: "gpt-5.5",
        stream: true,
        tools: codexTools,
        input: after1
      })
      const done = parseSse(yield* text(res)).find((e) => e.event === "response.output_item.done")!
      assert.strictEqual(done.data.item.type, "function_call")
      assert.deepStrictEqual(JSON.parse(done.data.item.arguments), { cmd: "cat hello.txt", workdir: "/w/repo" })

      const after2 = [
        ...after1,
        { type: "function_call", call_id: "c2", name: "exec_command", arguments: "{}" },
        { type: "function_call_output", call_id: "c2", output: "hi" }
      ]
      const final = yield* post(`${server.url}/v1/responses`, {
        model: "gpt-5.5",
        stream: true,
        tools: codexTools,
        input: after2
      })
      const events = parseSse(yield* text(final))
      assert.strictEqual(events.find((e) => e.event === "response.output_text.done")!.data.text, "DONE")
      assert.strictEqual(events.at(-1)!.data.response.output[0].content[0].text, "DONE")
    })
  )
})

describe("ModelServer: Chat Completions", () => {
  const opencodeTools = [
    {
      type: "function",
      function: {
        name: "write",
        parameters: {
          type: "object",
          properties: { filePath: { type: "string" }, content: { type: "string" } },
          required: ["filePath", "content"]
        }
      }
    },
    {
      type: "function",
      function: {
        name: "bash",
        parameters: {
          type: "object",
          properties: { command: { type: "string" }, description: { type: "string" } },
          required: ["command", "description"]
        }
      }
    }
  ]
  const droidTools = [
    {
      type: "function",
      function: {
        name: "Create",
        parameters: { type: "object", properties: { file_path: {}, content: {} }, required: ["file_path", "content"] }
      }
    },
    {
      type: "function",
      function: {
        name: "Execute",
        parameters: {
          type: "object",
          properties: {
            command: { type: "string" },
            summary: { type: "string" },
            riskLevel: { type: "string", enum: ["low", "medium", "high"] },
            riskLevelReason: { type: "string" }
          },
          required: ["command", "summary", "riskLevel", "riskLevelReason"]
        }
      }
    }
  ]

  it.effect("streams opencode's write call as data-only chunks ending in a usage chunk and [DONE]", () =>
    Effect.gen(function* () {
      const server = yield* ModelServer.scoped()
      const res = yield* post(`${server.url}/v1/chat/completions`, {
        model: "m",
        stream: true,
        tools: opencodeTools,
        messages: [
          { role: "system", content: "Working directory: /repo/x\n" },
          { role: "user", content: "go" }
        ]
      })
      const events = parseSse(yield* text(res))
      assert.isTrue(events.every((e) => e.event === undefined))
      assert.strictEqual(events.at(-1)!.raw, "[DONE]")
      const usage = events.at(-2)!.data
      assert.deepStrictEqual(usage.choices, [])
      assert.strictEqual(usage.usage.prompt_tokens, 100)
      const call = events[1]!.data.choices[0].delta.tool_calls[0]
      assert.strictEqual(call.function.name, "write")
      assert.deepStrictEqual(JSON.parse(events[2]!.data.choices[0].delta.tool_calls[0].function.arguments), {
        filePath: "/repo/x/hello.txt",
        content: "hi\n"
      })
      assert.strictEqual(events[3]!.data.choices[0].finish_reason, "tool_calls")
    })
  )

  it.effect(
    "fills Droid's required Execute fields (first enum value, a short sentence) and answers JSON when not streaming",
    () =>
      Effect.gen(function* () {
        const server = yield* ModelServer.scoped()
        const res = yield* post(`${server.url}/v1/chat/completions`, {
          model: "m",
          tools: droidTools,
          messages: [
            { role: "user", content: "go" },
            { role: "assistant", content: null },
            { role: "tool", tool_call_id: "x", content: "created" }
          ]
        })
        const body = yield* jsonOf(res)
        const call = body.choices[0].message.tool_calls[0]
        assert.strictEqual(call.function.name, "Execute")
        const args = JSON.parse(call.function.arguments)
        assert.strictEqual(args.command, "cat hello.txt")
        assert.strictEqual(args.riskLevel, "low")
        assert.isString(args.summary)
        assert.isString(args.riskLevelReason)
        assert.strictEqual(body.choices[0].finish_reason, "tool_calls")
      })
  )

  it.effect("serves a model list, and 200 {} on any other path", () =>
    Effect.gen(function* () {
      const server = yield* ModelServer.scoped()
      const list = yield* Effect.promise(() => fetch(`${server.url}/v1/models`).then((r) => r.json() as Promise<any>))
      assert.isAbove(list.data.length, 0)
      const one = yield* Effect.promise(() =>
        fetch(`${server.url}/v1/models/gpt-5.5`).then((r) => r.json() as Promise<any>)
      )
      assert.strictEqual(one.id, "gpt-5.5")
      const other = yield* Effect.promise(() => fetch(`${server.url}/api/hello`, { method: "HEAD" }))
      assert.strictEqual(other.status, 200)
      assert.deepStrictEqual(server.hits, ["GET /v1/models", "GET /v1/models/gpt-5.5", "HEAD /api/hello"])
      assert.deepStrictEqual(server.requests, [])
    })
  )
})

describe("ModelServer: failure injection", () => {
  it.effect("answers HTTP errors shaped like each provider's, with retry-after on 429", () =>
    Effect.gen(function* () {
      const server = yield* ModelServer.scoped({ script: scripts.fail(529) })
      const a = yield* post(`${server.url}/v1/messages`, { model: "m", messages: [] })
      assert.strictEqual(a.status, 529)
      assert.deepStrictEqual(yield* jsonOf(a), {
        type: "error",
        error: { type: "overloaded_error", message: "Overloaded (model server)" }
      })

      server.setScript(() => ({ error: 429, message: "slow down" }))
      const r = yield* post(`${server.url}/v1/responses`, { model: "m", input: [] })
      assert.strictEqual(r.status, 429)
      assert.strictEqual(r.headers.get("retry-after"), "1")
      assert.strictEqual((yield* jsonOf(r)).error.message, "slow down")

      server.setScript(scripts.fail(400))
      const c = yield* post(`${server.url}/v1/chat/completions`, { model: "m", messages: [] })
      assert.strictEqual(c.status, 400)
      assert.strictEqual((yield* jsonOf(c)).error.message, "Bad request (model server)")
    })
  )

  it.effect("sends a valid first event then broken JSON when malformed", () =>
    Effect.gen(function* () {
      const server = yield* ModelServer.scoped({ script: () => ({ malformed: true }) })
      const res = yield* post(`${server.url}/v1/messages`, { model: "m", stream: true, messages: [] })
      const events = parseSse(yield* text(res))
      assert.strictEqual(events[0]!.data.type, "message_start")
      assert.throws(() => JSON.parse(events[1]!.raw))
      const plain = yield* post(`${server.url}/v1/messages`, { model: "m", messages: [] })
      const body = yield* text(plain)
      assert.throws(() => JSON.parse(body))
    })
  )

  it.effect("cuts the connection mid-stream when truncated", () =>
    Effect.gen(function* () {
      const server = yield* ModelServer.scoped({ script: () => ({ truncated: true }) })
      const res = yield* post(`${server.url}/v1/responses`, { model: "m", stream: true, input: [] })
      const failure = yield* Effect.flip(Effect.tryPromise(() => res.text()))
      assert.isDefined(failure)
    })
  )

  it.live("never answers when hanging, and close() still returns with the request open", () =>
    Effect.gen(function* () {
      const server = yield* Effect.promise(() => startModelServer({ script: scripts.hang() }))
      const pending = fetch(`${server.url}/v1/messages`, {
        method: "POST",
        body: JSON.stringify({ model: "m", messages: [] })
      }).then(
        () => "answered",
        () => "connection closed"
      )
      while (server.requests.length === 0) yield* Effect.sleep("10 millis")
      yield* Effect.promise(() => server.close())
      assert.strictEqual(yield* Effect.promise(() => pending), "connection closed")
    })
  )

  it.effect("rejects a scripted call to a tool the request did not offer, naming what was offered", () =>
    Effect.gen(function* () {
      const server = yield* ModelServer.scoped({ script: () => ({ tool: { name: "Nope", input: {} } }) })
      const res = yield* post(`${server.url}/v1/messages`, {
        model: "m",
        tools: claudeTools,
        messages: [{ role: "user", content: "x" }]
      })
      assert.strictEqual(res.status, 400)
      assert.include(
        (yield* jsonOf(res)).error.message,
        `"Nope", which the request did not offer (offered: Write, Bash, web_search)`
      )
    })
  )
})

describe("ModelServer.layer", () => {
  it.layer(ModelServer.layer({ script: scripts.textOnly("fixed") }))((it) => {
    it.effect("provides one server to every test in the block", () =>
      Effect.gen(function* () {
        const server = yield* ModelServer
        const res = yield* post(`${server.url}/v1/messages`, {
          model: "m",
          messages: [{ role: "user", content: "hi" }]
        })
        assert.deepStrictEqual((yield* jsonOf(res)).content, [{ type: "text", text: "fixed" }])
        const seen: ReadonlyArray<ModelRequest> = server.requests
        assert.strictEqual(seen.length, 1)
      })
    )
  })
})
