import { createServer } from "node:http"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { assert, describe, it } from "@effect/vitest"
import { ConfigFile, Project } from "@spec-orch/contract"
import { ConfigProvider, Effect, Layer } from "effect"
import { HttpServer } from "effect/http"
import { NodeServices } from "@effect/platform-node"
import {
  type Delivery,
  githubSignatureValid,
  judgeDelivery,
  linearSignatureValid,
  signBody,
  webhookServer
} from "../src/daemon/Webhooks.js"

const SECRET = "It's a Secret to Everybody"
const BODY = "Hello, World!"

describe("webhook signatures", () => {
  it("checks GitHub's X-Hub-Signature-256 (GitHub's documented example)", () => {
    const expected = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    assert.strictEqual(`sha256=${signBody(SECRET, BODY)}`, expected)
    assert.isTrue(githubSignatureValid(SECRET, BODY, expected))
    assert.isFalse(githubSignatureValid(SECRET, `${BODY} `, expected), "a changed body")
    assert.isFalse(githubSignatureValid("other", BODY, expected), "another secret")
    assert.isFalse(githubSignatureValid(SECRET, BODY, expected.replace("sha256=", "sha1=")))
    assert.isFalse(githubSignatureValid(SECRET, BODY, undefined))
  })

  it("checks Linear's Linear-Signature and refuses replays outside a minute", () => {
    const now = 1_700_000_000_000
    const body = JSON.stringify({ action: "update", type: "Issue", webhookTimestamp: now - 5_000 })
    assert.isTrue(linearSignatureValid(SECRET, body, signBody(SECRET, body)))
    assert.isFalse(linearSignatureValid(SECRET, body, "zz"))
    const ok = judgeDelivery(SECRET, { "linear-signature": signBody(SECRET, body), "linear-event": "Issue" }, body, now)
    assert.deepStrictEqual(ok, { accepted: true, tracker: "linear", event: "Issue" })
    const old = JSON.stringify({ action: "update", webhookTimestamp: now - 120_000 })
    const replay = judgeDelivery(SECRET, { "linear-signature": signBody(SECRET, old) }, old, now)
    assert.deepStrictEqual(replay, {
      accepted: false,
      status: 401,
      reason: "webhookTimestamp is 120 s away from now (replay window 60 s)"
    })
    assert.deepStrictEqual(judgeDelivery(SECRET, {}, body, now), {
      accepted: false,
      status: 401,
      reason: "no X-Hub-Signature-256 or Linear-Signature header"
    })
  })
})

describe("webhookServer", () => {
  const project = (env: Record<string, string>) =>
    Layer.mergeAll(
      Project.layerFrom("/tmp", ConfigFile.parse({ daemon: { webhook_port: 0 } })),
      ConfigProvider.layer(ConfigProvider.fromEnvRecord(env))
    ).pipe(Layer.provideMerge(NodeServices.layer))

  it.live("a signed delivery triggers a poll (202); an unsigned or forged one is refused (401) and does nothing", () =>
    Effect.gen(function* () {
      const deliveries: Array<Delivery> = []
      const server = webhookServer((d) => Effect.sync(() => deliveries.push(d))).pipe(
        Layer.provideMerge(NodeHttpServer.layer(() => createServer(), { port: 0, host: "127.0.0.1" })),
        Layer.provide(project({ SPEC_ORCH_WEBHOOK_SECRET: SECRET }))
      )
      yield* Effect.gen(function* () {
        const address = (yield* HttpServer.HttpServer).address
        const url = "port" in address ? `http://127.0.0.1:${address.port}/` : ""
        const post = (headers: Record<string, string>, body: string) =>
          Effect.promise(() =>
            fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body }).then(
              async (r) => ({ status: r.status, text: await r.text() })
            )
          )
        const payload = JSON.stringify({ action: "labeled", issue: { number: 1 } })
        const good = yield* post(
          { "x-hub-signature-256": `sha256=${signBody(SECRET, payload)}`, "x-github-event": "issues" },
          payload
        )
        assert.strictEqual(good.status, 202)
        const forged = yield* post(
          { "x-hub-signature-256": `sha256=${signBody("guess", payload)}`, "x-github-event": "issues" },
          payload
        )
        assert.deepStrictEqual(forged, { status: 401, text: "X-Hub-Signature-256 does not match\n" })
        const unsigned = yield* post({}, payload)
        assert.strictEqual(unsigned.status, 401)
        assert.deepStrictEqual(deliveries, [{ accepted: true, tracker: "github", event: "issues" }])
      }).pipe(Effect.provide(server))
    })
  )

  it.effect("refuses to start without a secret, naming the variable to export", () =>
    Effect.gen(function* () {
      const error = yield* Layer.build(
        webhookServer(() => Effect.void).pipe(
          Layer.provide(Layer.succeed(HttpServer.HttpServer, {} as HttpServer.HttpServer["Service"])),
          Layer.provide(project({}))
        )
      ).pipe(Effect.scoped, Effect.flip)
      assert.strictEqual(error._tag, "WebhookSecretMissing")
      assert.match(
        error.message,
        /\[daemon\] webhook_port = 0 needs a secret to check signatures: export SPEC_ORCH_WEBHOOK_SECRET/
      )
    })
  )
})
