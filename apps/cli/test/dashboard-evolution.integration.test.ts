/**
 * Approving and rejecting a learned proposal from the dashboard: the real binary on 127.0.0.1, real HTTP
 * requests with the per-start token, and the same rules as `spec-orch evolution approve|reject`.
 */
import { assert, describe, it } from "@effect/vitest"
import type { ChildProcess } from "node:child_process"
import { existsSync } from "node:fs"
import { createRequire } from "node:module"
import { join } from "node:path"
import { chromium } from "playwright-core"
import { makeProject, type TestProject } from "./utils/project.js"

interface Served {
  readonly base: string
  readonly token: string
  readonly child: ChildProcess
}

const serve = (p: Pick<TestProject, "spawn">): Promise<Served> =>
  new Promise((resolve, reject) => {
    const child = p.spawn("dashboard", "--json")
    let out = ""
    let err = ""
    child.stdout!.on("data", (d) => {
      out += d
      const line = out.split("\n").find((l) => l.startsWith("{"))
      if (line !== undefined && out.includes("\n")) {
        const info = JSON.parse(line) as { base: string; token: string }
        resolve({ base: info.base, token: info.token, child })
      }
    })
    child.stderr!.on("data", (d) => (err += d))
    child.on("exit", (code) => reject(new Error(`dashboard exited ${code}: ${err}`)))
  })

const stop = (s: Served) =>
  new Promise<void>((resolve) => {
    if (s.child.exitCode !== null) return resolve()
    s.child.on("exit", () => resolve())
    s.child.kill("SIGTERM")
  })

type Db = {
  prepare: (q: string) => { run: (...a: Array<unknown>) => unknown }
  close: () => void
}

/** A proposal recorded as the evolver would, in `state`. */
const seed = (db: Db, id: string, state: string) => {
  const at = "2026-01-01T00:00:00.000Z"
  db.prepare(
    "INSERT INTO so_proposals (id, content_hash, kind, scope, sources, content, state, canary_share, created_at, updated_at) VALUES (?, ?, 'review-learning', 'project', ?, ?, ?, NULL, ?, ?)"
  ).run(id, `${id}-hash`, JSON.stringify({ runIds: [], findingIds: [], reviewIds: [] }), `rule ${id}`, state, at, at)
  db.prepare(
    "INSERT INTO so_proposal_transitions (proposal_id, from_state, to_state, actor_type, actor_id, why, at) VALUES (?, NULL, ?, 'system', 'evolver:test', 'seeded', ?)"
  ).run(id, state, at)
}

// Evaluated in the page, where it exists (the test project compiles without the DOM's types).
declare const document: {
  querySelectorAll: (s: string) => ArrayLike<{ textContent: string | null }> & Iterable<{ textContent: string | null }>
}

const CHROMIUM =
  process.env.SPEC_ORCH_CHROMIUM ??
  ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => existsSync(p)) ??
  "/usr/bin/chromium"

/** A project with the proposal tables and two proposals: one validated, one only proposed. */
const seeded = () => {
  const p = makeProject()
  assert.strictEqual(p.cli("evolution", "proposals").status, 0, "creates the proposal tables")
  const Database = createRequire(import.meta.url)("better-sqlite3") as new (file: string) => Db
  const db = new Database(join(p.root, ".spec-orch/state.db"))
  seed(db, "prop-aaaaaaaaaaaa", "validated")
  seed(db, "prop-bbbbbbbbbbbb", "proposed")
  db.close()
  return p
}

describe("spec-orch dashboard: evolution actions", () => {
  it("the Evolution view approves a proposal with a person's name, and shows a refusal as it was given", async () => {
    assert.isTrue(
      existsSync(CHROMIUM),
      `Chromium is missing at ${CHROMIUM}: install it with \`apt-get install chromium\` (.ci/run does), or set SPEC_ORCH_CHROMIUM`
    )
    const p = seeded()
    const s = await serve(p)
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-gpu"] })
    try {
      const page = await browser.newPage()
      const errors: Array<string> = []
      page.on("pageerror", (e) => errors.push(e.message))
      await page.goto(`${s.base}/#token=${s.token}`)
      const row = (id: string) => page.locator(`#proposals li[data-proposal="${id}"]`)
      await row("prop-bbbbbbbbbbbb").locator("input[name=who]").fill("ana")
      await row("prop-bbbbbbbbbbbb").locator("button[value=approve]").click()
      await page.waitForFunction(() =>
        [...document.querySelectorAll("#proposals .result")].some((r) => (r.textContent ?? "") !== "")
      )
      assert.include(
        await row("prop-bbbbbbbbbbbb").locator(".result").textContent(),
        "prop-bbbbbbbbbbbb is proposed and cannot become approved; from proposed it may only become validated or rejected"
      )
      await row("prop-aaaaaaaaaaaa").locator("input[name=who]").fill("ana")
      await row("prop-aaaaaaaaaaaa").locator("button[value=approve]").click()
      await page.waitForFunction(() =>
        [...document.querySelectorAll("#proposals li")].some((li) => (li.textContent ?? "").includes("state: approved"))
      )
      const shown = JSON.parse(p.cli("evolution", "show", "prop-aaaaaaaaaaaa", "--json").stdout) as any
      assert.strictEqual(shown.state, "approved")
      assert.deepStrictEqual(shown.history.at(-1).actor, { type: "human", id: "ana" })
      assert.deepStrictEqual(errors, [], "no script errors on the page")
    } finally {
      await browser.close()
      await stop(s)
    }
  })

  it("approves a validated proposal and rejects another with a person's name and the token; refuses what the states do not allow", async () => {
    const p = seeded()
    const s = await serve(p)
    try {
      const post = async (id: string, decision: string, body: unknown, token: string | null = s.token) => {
        const res = await fetch(`${s.base}/api/v1/evolution/${id}/${decision}`, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            ...(token !== null ? { authorization: `Bearer ${token}` } : {})
          },
          body: JSON.stringify(body)
        })
        return { status: res.status, body: (await res.json()) as any }
      }

      const noToken = await post("prop-aaaaaaaaaaaa", "approve", { decidedBy: "ana" }, null)
      assert.strictEqual(noToken.status, 401)
      const nobody = await post("prop-aaaaaaaaaaaa", "approve", { decidedBy: "  " })
      assert.strictEqual(nobody.status, 409)
      assert.include(nobody.body.error.message, "approved by a person: give your name as decidedBy")
      const early = await post("prop-bbbbbbbbbbbb", "approve", { decidedBy: "ana" })
      assert.strictEqual(early.status, 409)
      assert.strictEqual(early.body.error.code, "action_refused")
      assert.include(
        early.body.error.message,
        "prop-bbbbbbbbbbbb is proposed and cannot become approved; from proposed it may only become validated or rejected"
      )
      const missing = await post("prop-cccccccccccc", "reject", { decidedBy: "ana" })
      assert.strictEqual(missing.status, 409)
      assert.include(missing.body.error.message, "no proposal prop-cccccccccccc")
      const bad = await post("prop-aaaaaaaaaaaa", "promote", { decidedBy: "ana" })
      assert.strictEqual(bad.status, 400)

      const approved = await post("prop-aaaaaaaaaaaa", "approve", { decidedBy: "ana", why: "checked the replay" })
      assert.strictEqual(approved.status, 200, JSON.stringify(approved.body))
      assert.strictEqual(approved.body.state, "approved")
      const rejected = await post("prop-bbbbbbbbbbbb", "reject", { decidedBy: "bo" })
      assert.strictEqual(rejected.status, 200, JSON.stringify(rejected.body))
      assert.strictEqual(rejected.body.state, "rejected")
      const again = await post("prop-bbbbbbbbbbbb", "reject", { decidedBy: "bo" })
      assert.include(again.body.error.message, "rejected is final")

      const history = (id: string) =>
        (JSON.parse(p.cli("evolution", "show", id, "--json").stdout) as any).history.map(
          (t: any) => `${t.from ?? "-"}>${t.to}:${t.actor.type}:${t.actor.id}:${t.why}`
        )
      assert.deepStrictEqual(history("prop-aaaaaaaaaaaa"), [
        "->validated:system:evolver:test:seeded",
        "validated>approved:human:ana:checked the replay"
      ])
      assert.deepStrictEqual(history("prop-bbbbbbbbbbbb"), [
        "->proposed:system:evolver:test:seeded",
        "proposed>rejected:human:bo:rejected by bo from the dashboard"
      ])
    } finally {
      await stop(s)
    }
  })
})
