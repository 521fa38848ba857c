/**
 * The dashboard's page in a real Chromium (Debian's `chromium`, driven by playwright-core; nothing
 * downloads a browser): it shows a run another process started and follows it live through its
 * stages, shows a hostile issue title as text, and a review given on the page changes the verdict.
 * Screenshots go to apps/cli/test-results/dashboard/. Without Chromium the test fails and says how to
 * install it (CI's .ci/run does).
 */
import { assert, describe, it } from "@effect/vitest"
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { join } from "node:path"
import { chromium } from "playwright-core"
import { makeMissionProject } from "./utils/mission-project.js"
import { makeProject, type TestProject, waitFor } from "./utils/project.js"
import { HISTORY, seedRuns } from "./utils/seed-runs.js"

// Evaluated in the page, where these exist (the test project compiles without the DOM's types).
declare const document: {
  querySelector: (s: string) => { textContent: string | null } | null
  querySelectorAll: (s: string) => ArrayLike<{ textContent: string | null }> & Iterable<{ textContent: string | null }>
}
declare const window: unknown

const CHROMIUM =
  process.env.SPEC_ORCH_CHROMIUM ??
  ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => existsSync(p)) ??
  "/usr/bin/chromium"
const SHOTS = join(import.meta.dirname, "../test-results/dashboard")

/** Starts `spec-orch dashboard` and resolves with the URL it printed. */
const serve = (p: Pick<TestProject, "spawn">) => {
  const child = p.spawn("dashboard", "--json")
  const url = new Promise<string>((resolve, reject) => {
    let out = ""
    child.stdout!.on("data", (d) => {
      out += d
      if (out.includes("\n")) resolve((JSON.parse(out.split("\n")[0]!) as { url: string }).url)
    })
    child.on("exit", (code) => reject(new Error(`dashboard exited ${code}`)))
  })
  return { child, url }
}

describe("the dashboard page", () => {
  it("follows a run another process started, shows a hostile title as text, and records a review", async () => {
    assert.isTrue(
      existsSync(CHROMIUM),
      `Chromium is missing at ${CHROMIUM}: install it with \`apt-get install chromium\` (.ci/run does), or set SPEC_ORCH_CHROMIUM`
    )
    mkdirSync(SHOTS, { recursive: true })
    const p = makeProject({ profile: "reviewed" })
    const gate = p.signal("go")
    const hostile = `<img src=x onerror="window.pwned=1"><script>window.pwned=2</script>`
    p.issue("PAGE-1", { builder_prompt: `AWAIT ${gate}\nWRITE src/p.txt p`, target_files: ["src/"] })
    const fixture = join(p.root, "fixtures/issues/PAGE-1.json")
    writeFileSync(fixture, JSON.stringify({ ...JSON.parse(readFileSync(fixture, "utf8")), title: hostile }))

    const { child: dashboard, url: served } = serve(p)
    const url = await served
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-gpu"] })
    try {
      const page = await browser.newPage()
      const errors: Array<string> = []
      page.on("pageerror", (e) => errors.push(e.message))
      await page.goto(url)
      await page.waitForSelector("#live.on")
      const cell = (column: number) => `#runs tbody tr[data-run="PAGE-1-r1"] td:nth-child(${column})`
      const text = (selector: string) => page.evaluate((s) => document.querySelector(s)?.textContent ?? null, selector)

      // A run started by another process appears and moves on the page without a reload.
      const run = p.cliAsync("run", "PAGE-1", "--auto-approve")
      await page.waitForFunction((s) => document.querySelector(s)?.textContent === "agent", cell(4), {
        timeout: 60_000
      })
      assert.strictEqual(await text(cell(3)), "running")
      await page.screenshot({ path: join(SHOTS, "1-running.png"), fullPage: true })

      // The hostile title is on the page as text: no element came out of it and no script ran.
      await page.waitForFunction(
        ([s, title]) => document.querySelector(s!)?.textContent?.includes(title!) === true,
        [cell(1), hostile],
        { timeout: 10_000 }
      )
      assert.strictEqual(await page.evaluate(() => document.querySelectorAll("#runs img, #runs script").length), 0)
      assert.isUndefined(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned))

      writeFileSync(gate, "")
      assert.strictEqual((await run).status, 1, "blocked until someone reviews it")
      await page.waitForFunction((s) => document.querySelector(s)?.textContent === "blocked", cell(3), {
        timeout: 30_000
      })
      await page.waitForFunction(
        () => document.querySelector("#attention li[data-issue='PAGE-1'] .kind")?.textContent === "review",
        undefined,
        { timeout: 10_000 }
      )
      assert.strictEqual(await text(cell(5)), "blocked")
      await page.waitForFunction(
        () => document.querySelector("#totals")?.textContent?.includes("0 running, 1 blocked") === true,
        undefined,
        { timeout: 10_000 }
      )

      // Open the run: its stages and gate; review it from the page.
      await page.click(`#runs tbody tr[data-run="PAGE-1-r1"]`)
      await page.waitForSelector("#detail:not([hidden]) #timeline li")
      const stages = await page.evaluate(() =>
        [...document.querySelectorAll("#timeline li")].map((li) => li.textContent!.split(" ")[0])
      )
      assert.includeMembers(stages, ["agent", "verify", "review", "gate"])
      assert.include(await text("#conditions"), "review")
      assert.include(await text("#diff"), "+++ b/src/p.txt")
      await page.screenshot({ path: join(SHOTS, "2-blocked.png"), fullPage: true })
      await page.selectOption("#review-form select[name=verdict]", "pass")
      await page.fill("#review-form input[name=who]", "Ada")
      await page.click("#review-form button[type=submit]")
      await page.waitForFunction(
        () => document.querySelector("#action-result")?.textContent?.includes("MERGEABLE") === true,
        undefined,
        { timeout: 30_000 }
      )
      await page.waitForFunction((s) => document.querySelector(s)?.textContent === "succeeded", cell(3), {
        timeout: 10_000
      })
      assert.strictEqual(await text(cell(5)), "mergeable")
      await page.waitForFunction(() => document.querySelector("#attention-count")?.textContent === "0", undefined, {
        timeout: 10_000
      })
      await page.screenshot({ path: join(SHOTS, "3-reviewed.png"), fullPage: true })
      assert.deepStrictEqual(errors, [], "no script errors on the page")
      await waitFor(() => /succeeded/.test(p.cli("status", "PAGE-1").stdout), 5_000)
    } finally {
      await browser.close()
      dashboard.kill("SIGTERM")
    }
  })

  it("shows a mission's progress and its waves of packets, and opens a packet's run", async () => {
    assert.isTrue(
      existsSync(CHROMIUM),
      `Chromium is missing at ${CHROMIUM}: install it with \`apt-get install chromium\` (.ci/run does), or set SPEC_ORCH_CHROMIUM`
    )
    mkdirSync(SHOTS, { recursive: true })
    const p = makeMissionProject()
    p.mission("two", [
      [{ id: "a", files: ["a/"], prompt: "WRITE a/x.txt x" }],
      [{ id: "b", files: ["b/"], dependsOn: ["a"], prompt: "WRITE b/y.txt y" }]
    ])
    assert.strictEqual(p.cli("run-plan", "two").status, 0)
    const { child: dashboard, url } = serve(p)
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-gpu"] })
    try {
      const page = await browser.newPage()
      const errors: Array<string> = []
      page.on("pageerror", (e) => errors.push(e.message))
      await page.goto(await url)
      await page.waitForFunction(
        () => document.querySelector("#missions li[data-mission='two']")?.textContent?.includes("2/2 packets") === true
      )
      await page.click("#missions li[data-mission='two']")
      await page.waitForSelector("#waves li[data-packet='b']")
      const waves = await page.evaluate(() => [...document.querySelectorAll("#waves > li")].map((w) => w.textContent))
      assert.strictEqual(waves.length, 2)
      assert.match(waves[0]!, /a succeeded/)
      assert.match(waves[1]!, /b succeeded/)
      // Trends: both packets' runs passed, with the command adapter.
      assert.deepStrictEqual(
        await page.evaluate(() =>
          [...document.querySelectorAll("#chart-adapters .chart-row")].map((r) => r.textContent)
        ),
        ["command100% of 2"]
      )
      await page.screenshot({ path: join(SHOTS, "4-mission.png"), fullPage: true })
      await page.click("#waves li[data-packet='b']")
      await page.waitForFunction(
        () => document.querySelector("#detail-id")?.textContent?.startsWith("two.b-r1") === true
      )
      assert.deepStrictEqual(errors, [], "no script errors on the page")
    } finally {
      await browser.close()
      dashboard.kill("SIGTERM")
    }
  })

  it("draws pass rate, cost and time per stage over time as SVG, a line per adapter or per profile", async () => {
    assert.isTrue(
      existsSync(CHROMIUM),
      `Chromium is missing at ${CHROMIUM}: install it with \`apt-get install chromium\` (.ci/run does), or set SPEC_ORCH_CHROMIUM`
    )
    mkdirSync(SHOTS, { recursive: true })
    const p = makeProject()
    p.issue("PAGE-M", { builder_prompt: "WRITE src/m.txt m", target_files: ["src/"] })
    assert.strictEqual(p.cli("run", "PAGE-M", "--auto-approve").status, 0)
    seedRuns(p.root, "PAGE-M-r1", HISTORY)
    const { child: dashboard, url } = serve(p)
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-gpu"] })
    try {
      const page = await browser.newPage()
      const errors: Array<string> = []
      page.on("pageerror", (e) => errors.push(e.message))
      await page.goto(await url)
      await page.waitForSelector("#trend-pass svg circle.point")
      // The points of each line, by series: command ran on three days (two seeded, one today), codex on two.
      const points = (chart: string) =>
        page.evaluate(
          (c) =>
            [...document.querySelectorAll(`#${c} svg g.series`)].map((g: any) => [
              g.getAttribute("data-series"),
              g.querySelectorAll("circle.point").length
            ]),
          chart
        )
      assert.deepStrictEqual(await points("trend-pass"), [
        ["command", 3],
        ["codex", 2]
      ])
      assert.deepStrictEqual(await points("trend-cost"), [
        ["command", 3],
        ["codex", 2]
      ])
      // Time per stage: only the real run has stage events, so one point per stage.
      const stages = await points("trend-stages")
      assert.includeMembers(
        stages.map(([s]) => s),
        ["agent", "verify", "gate"]
      )
      assert.isTrue(
        stages.every(([, n]) => n === 1),
        JSON.stringify(stages)
      )
      await page.screenshot({ path: join(SHOTS, "5-trends-adapter.png"), fullPage: true })

      await page.selectOption("#metrics-by", "profile")
      await page.waitForFunction(
        () => (document.querySelector("#trend-pass svg g.series") as any)?.getAttribute("data-series") === "e2e"
      )
      assert.deepStrictEqual(await points("trend-pass"), [
        ["e2e", 2],
        ["strict", 2]
      ])
      await page.screenshot({ path: join(SHOTS, "6-trends-profile.png"), fullPage: true })
      // Evolution: memory recorded the real run; no proposal was made yet, so the empty state says so.
      await page.waitForFunction(
        () => document.querySelector("#memory-line")?.textContent?.startsWith("Memory: ") === true
      )
      assert.match(
        (await page.evaluate(() => document.querySelector("#proposals")?.textContent)) ?? "",
        /no proposals/i
      )
      assert.deepStrictEqual(errors, [], "no script errors on the page")
    } finally {
      await browser.close()
      dashboard.kill("SIGTERM")
    }
  })

  it("shows what the daemon holds: its claims with their lease and its dead letters, as text", async () => {
    assert.isTrue(
      existsSync(CHROMIUM),
      `Chromium is missing at ${CHROMIUM}: install it with \`apt-get install chromium\` (.ci/run does), or set SPEC_ORCH_CHROMIUM`
    )
    mkdirSync(SHOTS, { recursive: true })
    const p = makeProject()
    const { child: dashboard, url } = serve(p)
    const served = await url
    // A claim and a dead letter as the daemon records them (its store's tables; the dashboard created them on start).
    const Database = createRequire(import.meta.url)("better-sqlite3") as new (
      file: string
    ) => { prepare: (q: string) => { run: (...a: Array<unknown>) => unknown }; close: () => void }
    const db = new Database(join(p.root, ".spec-orch/state.db"))
    db.prepare(
      "INSERT INTO so_daemon_claims (issue_id, owner, run_id, expires_at, updated_at) VALUES (?, ?, ?, ?, ?)"
    ).run("DMN-1", "box:4242", "DMN-1-r2", Date.now() + 60_000, new Date().toISOString())
    db.prepare(
      "INSERT INTO so_daemon_dead_letters (issue_id, reason, attempts, last_run_id, dead_at) VALUES (?, ?, ?, ?, ?)"
    ).run("DMN-2", "<b>verification</b> kept failing", 3, "DMN-2-r3", new Date().toISOString())
    db.close()
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-gpu"] })
    try {
      const page = await browser.newPage()
      const errors: Array<string> = []
      page.on("pageerror", (e) => errors.push(e.message))
      await page.goto(served)
      await page.waitForSelector("#daemon-detail:not([hidden]) li")
      const items = await page.evaluate(() =>
        [...document.querySelectorAll("#daemon-detail li")].map((li) => li.textContent)
      )
      assert.isTrue(
        items.some((t) => /^claim: DMN-1 held by box:4242 \(run DMN-1-r2\) until /.test(t ?? "")),
        JSON.stringify(items)
      )
      assert.include(items, "dead letter: DMN-2 after 3 attempt(s): <b>verification</b> kept failing")
      assert.strictEqual(
        await page.evaluate(() => document.querySelectorAll("#daemon-detail b").length),
        0,
        "a reason is text, never markup"
      )
      await page.screenshot({ path: join(SHOTS, "7-daemon.png"), fullPage: true })
      assert.deepStrictEqual(errors, [], "no script errors on the page")
    } finally {
      await browser.close()
      dashboard.kill("SIGTERM")
    }
  })
})
