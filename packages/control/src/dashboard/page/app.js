// The spec-orch dashboard page: plain JavaScript over the JSON API and the live feed. Everything an
// issue, an agent or a reviewer wrote is put on the page as text (textContent), never as markup.

const token = new URLSearchParams(location.hash.slice(1)).get("token") || ""
const $ = (id) => document.getElementById(id)
const runs = new Map()
let selected = null

const el = (tag, props, ...children) => {
  const node = document.createElement(tag)
  for (const [k, v] of Object.entries(props || {})) {
    if (k === "className") node.className = v
    else if (k === "onclick") node.addEventListener("click", v)
    else node.setAttribute(k, v)
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(c == null ? "" : String(c)))
  return node
}

const api = async (path, init) => {
  const headers = Object.assign(
    { accept: "application/json" },
    init && init.body ? { "content-type": "application/json" } : {},
    token ? { authorization: `Bearer ${token}` } : {}
  )
  const res = await fetch(path, Object.assign({}, init, { headers }))
  const body = await res.json().catch(() => null)
  if (!res.ok) throw new Error(body && body.error ? body.error.message : `${res.status} ${res.statusText}`)
  return body
}

const when = (iso) => (iso ? new Date(iso).toLocaleString() : "")
const tokens = (t) => (t ? t.total_tokens.toLocaleString() : "")
const cost = (c) => (c == null ? "" : `$${c.toFixed(2)}`)

function renderRuns() {
  const body = $("runs").tBodies[0]
  const rows = [...runs.values()].sort((a, b) => (a.started_at < b.started_at ? 1 : -1)).slice(0, 100)
  body.replaceChildren(
    ...rows.map((r) => {
      const tr = el(
        "tr",
        {
          className: `row${r.run_id === selected ? " selected" : ""}`,
          "data-run": r.run_id,
          onclick: () => openRun(r.run_id)
        },
        el("td", {}, el("strong", {}, r.issue_id), r.title ? el("div", { className: "muted title" }, r.title) : ""),
        el("td", {}, r.run_id),
        el("td", { className: `state-${r.state}` }, r.state),
        el("td", {}, r.stage),
        el("td", { className: r.verdict ? `verdict-${r.verdict}` : "" }, r.verdict || ""),
        el("td", {}, tokens(r.tokens)),
        el("td", {}, cost(r.cost_usd)),
        el("td", {}, when(r.started_at))
      )
      return tr
    })
  )
}

async function loadState() {
  const state = await api("/api/v1/state")
  for (const r of state.recent) runs.set(r.run_id, r)
  for (const r of state.running) runs.set(r.run_id, r)
  const t = state.codex_totals
  $("totals").textContent =
    `${state.counts.running} running, ${state.counts.blocked} blocked; ${t.total_tokens.toLocaleString()} tokens${t.cost_usd ? `, $${t.cost_usd.toFixed(2)}` : ""}`
  renderRuns()
}

async function loadAttention() {
  const items = await api("/api/v1/attention")
  $("attention-count").textContent = String(items.length)
  const list = $("attention")
  if (items.length === 0) return list.replaceChildren(el("li", { className: "muted" }, "Nothing needs you."))
  list.replaceChildren(
    ...items.map((a) =>
      el(
        "li",
        { "data-issue": a.issue_id, onclick: () => a.run_id && openRun(a.run_id) },
        el("span", { className: "kind" }, a.kind.replace("_", " ")),
        el("strong", {}, a.issue_id),
        " ",
        a.message,
        ...a.to_unblock.map((u) => el("div", { className: "muted" }, `\u2192 ${u}`)),
        ...(a.questions || []).map((q) => answerForm(a.issue_id, q)),
        ...(a.kind === "dead_letter" ? [releaseButton(a.issue_id)] : [])
      )
    )
  )
}

// Let the daemon try a dead-lettered issue again (the same as `spec-orch daemon dlq-retry`).
function releaseButton(issue) {
  const result = el("span", { className: "result", role: "status" })
  const button = el(
    "button",
    {
      type: "button",
      onclick: async (e) => {
        e.stopPropagation()
        try {
          await api(`/api/v1/${encodeURIComponent(issue)}/release`, { method: "POST", body: "{}" })
          result.textContent = "released; the daemon tries it again on its next poll"
          loadAttention().catch(() => {})
        } catch (err) {
          result.textContent = err.message
        }
      }
    },
    "Release to the daemon"
  )
  return el("div", {}, button, " ", result)
}

// Answer a blocking question right on its card (the same as `spec-orch questions answer`).
function answerForm(issue, q) {
  const form = el(
    "form",
    { className: "answer", "data-question": q.id },
    el("span", {}, `${q.id}: ${q.text}`),
    el("input", { name: "answer", required: "", placeholder: "your answer" }),
    el("input", { name: "who", required: "", placeholder: "your name" }),
    el("button", { type: "submit" }, "Answer"),
    el("span", { className: "result", role: "status" })
  )
  form.addEventListener("click", (e) => e.stopPropagation())
  form.addEventListener("submit", async (e) => {
    e.preventDefault()
    const f = new FormData(form)
    try {
      await api(`/api/v1/${encodeURIComponent(issue)}/answer`, {
        method: "POST",
        body: JSON.stringify({ questionId: q.id, answer: f.get("answer"), decidedBy: f.get("who") })
      })
      form.querySelector(".result").textContent = "answered; run it again to continue"
    } catch (err) {
      form.querySelector(".result").textContent = err.message
    }
  })
  return form
}

async function loadDaemon() {
  const d = await api("/api/v1/daemon")
  const line = $("daemon-line")
  line.hidden = d.health.state === "not-running" && !d.heartbeat
  line.className = d.health.healthy ? "" : "unhealthy"
  line.textContent =
    "daemon: " +
    d.health.message +
    (d.claims.length ? `; holds ${d.claims.map((c) => c.issue_id).join(", ")}` : "") +
    (d.retrying.length ? `; retrying ${d.retrying.map((r) => r.issue_id).join(", ")}` : "") +
    (d.dead_letters.length ? `; dead-lettered ${d.dead_letters.map((x) => x.issue_id).join(", ")}` : "")
  // What the daemon holds, one line each: its heartbeat, claims (with their lease), retries and dead letters.
  const h = d.heartbeat
  const items = [
    ...(h
      ? [
          `heartbeat: ${h.status}, pid ${h.pid} on ${h.host}, written ${when(h.at)}, ${h.processed} run(s) done, ${h.inFlight.length} in flight`
        ]
      : []),
    ...d.claims.map(
      (c) =>
        `claim: ${c.issue_id} held by ${c.owner}${c.run_id ? ` (run ${c.run_id}${c.runner ? ` on runner ${c.runner}` : ""})` : ""} until ${when(c.lease_until)}`
    ),
    ...d.retrying.map(
      (r) =>
        `retry: ${r.issue_id} attempt ${r.attempt}${r.due_at ? ` due ${when(r.due_at)}` : ""}${r.error ? `: ${r.error}` : ""}`
    ),
    ...d.dead_letters.map((x) => `dead letter: ${x.issue_id} after ${x.attempts} attempt(s): ${x.reason}`)
  ]
  $("daemon-detail").hidden = items.length === 0
  $("daemon-detail").replaceChildren(...items.map((t) => el("li", {}, t)))
}

// A horizontal bar chart: one row per item, the bar's width through the CSSOM (the CSP allows no inline style).
function barChart(target, rows, kind) {
  const max = Math.max(1, ...rows.map((r) => r.value))
  $(target).replaceChildren(
    ...rows.map((r) => {
      const fill = el("div", { className: `fill${kind === "time" ? " time" : ""}` })
      fill.style.width = `${100 * (kind === "rate" ? r.value : r.value / max)}%`
      return el(
        "div",
        { className: "chart-row", title: r.title || "" },
        el("span", { className: "label" }, r.label),
        el("div", { className: "track" }, fill),
        el("span", {}, r.text)
      )
    })
  )
}

async function loadStats() {
  const s = await api("/api/v1/stats")
  $("stats-section").hidden = s.runs === 0
  $("stats-note").textContent = `(the latest ${s.runs} finished runs)`
  const rate = (g) => ({
    label: g.key,
    value: g.pass_rate,
    text: `${Math.round(g.pass_rate * 100)}% of ${g.runs}`,
    title: `${g.mergeable} mergeable, ${g.blocked} blocked, ${g.failed} failed${g.cost_usd ? `, $${g.cost_usd.toFixed(2)}` : ""}${g.median_seconds != null ? `, median ${g.median_seconds} s` : ""}`
  })
  barChart("chart-days", s.by_day.slice(-14).map(rate), "rate")
  barChart("chart-adapters", s.by_adapter.map(rate), "rate")
  barChart("chart-profiles", s.by_profile.map(rate), "rate")
  barChart(
    "chart-stages",
    s.stages.map((t) => ({
      label: t.stage,
      value: t.median_ms,
      text: `${(t.median_ms / 1000).toFixed(1)} s`,
      title: `p95 ${(t.p95_ms / 1000).toFixed(1)} s over ${t.runs} runs`
    })),
    "time"
  )
  if (s.runs > 0) await loadMetrics()
}

// Line charts over time, drawn as SVG elements (no library): one line per series, a dot per bucket it has.
const SVG = "http://www.w3.org/2000/svg"
const COLOURS = ["#1a73e8", "#188038", "#d93025", "#f29900", "#9334e6", "#12b5cb", "#e8710a", "#5f6368"]
const svg = (tag, attrs, ...children) => {
  const node = document.createElementNS(SVG, tag)
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v))
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)))
  return node
}

function lineChart(target, buckets, lines, format) {
  const W = 320,
    H = 150,
    L = 36,
    R = 8,
    T = 8,
    B = 20
  const max = Math.max(0, ...lines.flatMap((l) => l.points.map((p) => p.y))) || 1
  const x = (b) =>
    L + (buckets.length === 1 ? (W - L - R) / 2 : (buckets.indexOf(b) * (W - L - R)) / (buckets.length - 1))
  const y = (v) => T + (H - T - B) * (1 - v / max)
  const chart = svg(
    "svg",
    { viewBox: `0 0 ${W} ${H}`, role: "img" },
    svg("line", { class: "axis", x1: L, y1: H - B, x2: W - R, y2: H - B }),
    svg("line", { class: "axis", x1: L, y1: T, x2: L, y2: H - B }),
    svg("text", { x: L - 4, y: T + 8, "text-anchor": "end" }, format(max)),
    svg("text", { x: L - 4, y: H - B, "text-anchor": "end" }, format(0)),
    svg("text", { x: L, y: H - 6 }, buckets[0] || ""),
    buckets.length > 1 ? svg("text", { x: W - R, y: H - 6, "text-anchor": "end" }, buckets[buckets.length - 1]) : ""
  )
  lines.forEach((l, i) => {
    const colour = COLOURS[i % COLOURS.length]
    const g = svg("g", { class: "series", "data-series": l.key })
    if (l.points.length > 1)
      g.append(
        svg("polyline", {
          fill: "none",
          stroke: colour,
          "stroke-width": 2,
          points: l.points.map((p) => `${x(p.bucket)},${y(p.y)}`).join(" ")
        })
      )
    for (const p of l.points)
      g.append(
        svg(
          "circle",
          { class: "point", cx: x(p.bucket), cy: y(p.y), r: 3, fill: colour },
          svg("title", {}, `${l.key}, ${p.bucket}: ${format(p.y)}${p.note ? ` (${p.note})` : ""}`)
        )
      )
    chart.append(g)
  })
  const legend = el(
    "div",
    { className: "legend" },
    ...lines.map((l, i) => {
      const swatch = el("span", { className: "swatch" })
      swatch.style.background = COLOURS[i % COLOURS.length] // through the CSSOM: the page's CSP allows no inline style
      return el("span", {}, swatch, l.key)
    })
  )
  $(target).replaceChildren(chart, legend)
}

async function loadMetrics() {
  const m = await api(`/api/v1/metrics?by=${$("metrics-by").value}&bucket=${$("metrics-bucket").value}`)
  const series = (pick) =>
    m.series.map((s) => ({
      key: s.key,
      points: s.points.map((p) => ({ bucket: p.bucket, y: pick(p), note: `${p.runs} run(s)` }))
    }))
  lineChart(
    "trend-pass",
    m.buckets,
    series((p) => p.pass_rate),
    (v) => `${Math.round(v * 100)}%`
  )
  lineChart(
    "trend-cost",
    m.buckets,
    series((p) => p.cost_usd),
    (v) => `$${v.toFixed(2)}`
  )
  lineChart(
    "trend-stages",
    m.buckets,
    m.stages.map((stage) => ({
      key: stage,
      points: m.overall
        .filter((p) => p.stage_ms[stage] != null)
        .map((p) => ({ bucket: p.bucket, y: p.stage_ms[stage] / 1000 }))
    })),
    (v) => `${v.toFixed(1)} s`
  )
}

// Memory and proposals: what the latest runs were given, as text.
async function loadEvolution() {
  const e = await api("/api/v1/evolution")
  const m = e.memory
  $("memory-line").textContent =
    m.status === "absent"
      ? "Memory has recorded nothing here yet."
      : `Memory: ${m.live} entries in force (${Object.entries(m.by_layer)
          .map(([k, n]) => `${n} ${k}`)
          .join(", ")}), ${m.closed} closed; last recorded ${when(m.latest_recorded_at)}`
  $("learnings").replaceChildren(
    ...(e.runs.length
      ? e.runs.map((r) =>
          el(
            "li",
            { "data-run": r.run_id },
            el("strong", {}, r.run_id),
            ` was given ${r.learnings.length} learning(s)`,
            el(
              "ul",
              {},
              ...r.learnings.map((l) =>
                el(
                  "li",
                  { title: l.content || "" },
                  (l.key || l.id) +
                    (l.layer ? ` [${l.layer}]` : "") +
                    (l.content == null ? " (no longer in memory)" : "")
                )
              )
            )
          )
        )
      : [el("li", { className: "muted" }, "No run was given learnings yet.")])
  )
  $("proposals").replaceChildren(
    ...(e.proposals && e.proposals.length
      ? e.proposals.map((p) =>
          el(
            "li",
            { "data-proposal": p.id || "" },
            Object.entries(p)
              .map(([k, v]) => `${k}: ${typeof v === "string" ? v : JSON.stringify(v)}`)
              .join(" \u00b7 "),
            ...(DECIDABLE.includes(p.state) ? [proposalForm(p.id)] : [])
          )
        )
      : [el("li", { className: "muted" }, e.proposals_note || "No proposals.")])
  )
}

// A person approves or rejects a proposal (the same as `spec-orch evolution approve|reject`); refusals show as given.
const DECIDABLE = ["proposed", "validated", "approved"]
function proposalForm(id) {
  const result = el("span", { className: "result", role: "status" })
  const form = el(
    "form",
    { className: "decide" },
    el("input", { name: "who", required: "", placeholder: "your name" }),
    el("button", { type: "submit", value: "approve" }, "Approve"),
    el("button", { type: "submit", value: "reject" }, "Reject"),
    result
  )
  form.addEventListener("submit", async (e) => {
    e.preventDefault()
    const decision = e.submitter && e.submitter.value === "reject" ? "reject" : "approve"
    try {
      const p = await api(`/api/v1/evolution/${encodeURIComponent(id)}/${decision}`, {
        method: "POST",
        body: JSON.stringify({ decidedBy: new FormData(form).get("who") })
      })
      result.textContent = `${p.id} is now ${p.state}`
      loadEvolution().catch(() => {})
    } catch (err) {
      result.textContent = err.message
    }
  })
  return form
}

let missionOpen = null
const PACKET_STATES = ["succeeded", "running", "interrupted", "blocked", "failed", "waiting", "skipped", "not-started"]

async function loadMissions() {
  const missions = await api("/api/v1/missions")
  $("missions-section").hidden = missions.length === 0
  $("missions").replaceChildren(
    ...missions.map((m) => {
      const bar = el("span", {
        className: "bar",
        title:
          m.problem ||
          PACKET_STATES.filter((s) => m.counts && m.counts[s])
            .map((s) => `${m.counts[s]} ${s}`)
            .join(", ")
      })
      if (m.counts && m.packets) {
        for (const s of PACKET_STATES) {
          if (!m.counts[s]) continue
          const part = el("span", { className: s })
          part.style.width = `${(100 * m.counts[s]) / m.packets}%` // through the CSSOM: the page's CSP allows no inline style
          bar.append(part)
        }
      }
      return el(
        "li",
        { "data-mission": m.mission_id, onclick: () => openMission(m.mission_id) },
        el("strong", {}, m.mission_id),
        el("span", {}, m.title),
        el("span", { className: "muted" }, m.status),
        bar,
        el(
          "span",
          { className: "muted" },
          m.counts ? `${m.counts.succeeded || 0}/${m.packets} packets` : m.problem || ""
        )
      )
    })
  )
  if (missionOpen) openMission(missionOpen).catch(() => {})
}

async function openMission(id) {
  missionOpen = id
  const m = await api(`/api/v1/missions/${encodeURIComponent(id)}`)
  $("mission-detail").hidden = false
  $("mission-title").textContent =
    `${m.mission_id}: ${m.title} (${m.status}${m.mission_run ? `, run-plan ${m.mission_run.outcome}` : ""})`
  $("waves").replaceChildren(
    ...m.waves.map((w) =>
      el(
        "li",
        {},
        el("div", { className: "muted" }, `wave ${w.index}${w.description ? `: ${w.description}` : ""}`),
        el(
          "ul",
          {},
          ...w.packets.map((p) =>
            el(
              "li",
              {
                className: `packet state-${p.state}`,
                "data-packet": p.packet_id,
                title: p.reason || "",
                onclick: () => p.run && openRun(p.run.run_id)
              },
              el("strong", {}, p.packet_id),
              " ",
              p.state,
              el("div", { className: "muted" }, p.title),
              p.integration ? el("div", { className: "muted" }, `integration: ${p.integration.outcome}`) : ""
            )
          )
        )
      )
    )
  )
}

async function openRun(runId) {
  selected = runId
  renderRuns()
  const d = await api(`/api/v1/runs/${encodeURIComponent(runId)}`)
  $("detail").hidden = false
  $("detail-id").textContent = d.run.run_id + (d.run.title ? ` \u2014 ${d.run.title}` : "")
  $("detail-summary").replaceChildren(
    el("span", { className: `state-${d.run.state}` }, d.run.state),
    " at ",
    d.run.stage,
    d.run.message ? ` \u2014 ${d.run.message}` : ""
  )
  $("timeline").replaceChildren(
    ...d.timeline.map((s) =>
      el(
        "li",
        { className: `stage-${s.state}`, title: s.summary || "" },
        s.stage +
          (s.ms != null ? ` ${(s.ms / 1000).toFixed(1)}s` : "") +
          (s.state === "failed" ? " \u2717" : s.state === "finished" ? " \u2713" : " \u2026")
      )
    )
  )
  $("conditions").tBodies[0].replaceChildren(
    ...d.run.conditions
      .filter((c) => c.status !== "disabled")
      .map((c) =>
        el(
          "tr",
          {},
          el("td", {}, c.condition),
          el("td", { className: `cond-${c.status}` }, c.status),
          el("td", {}, c.reason),
          el("td", {}, c.status === "passed" ? "" : c.unblock || "")
        )
      )
  )
  $("steps").tBodies[0].replaceChildren(
    ...d.verification.map((s) =>
      el(
        "tr",
        {},
        el("td", {}, s.name),
        el("td", { className: s.outcome === "passed" ? "cond-passed" : "cond-failed" }, s.outcome),
        el("td", {}, s.exitCode),
        el("td", {}, s.durationMs != null ? `${(s.durationMs / 1000).toFixed(1)}s` : ""),
        el("td", {}, Array.isArray(s.command) ? s.command.join(" ") : s.command || "")
      )
    )
  )
  $("findings").replaceChildren(
    ...(d.findings.length
      ? d.findings.map((f) =>
          el(
            "li",
            {},
            `[${f.severity}] ${f.description}${f.filePath ? ` (${f.filePath}${f.line ? `:${f.line}` : ""})` : ""}`
          )
        )
      : [el("li", { className: "muted" }, "none")])
  )
  $("explain").textContent = d.explain || "(no explain.md yet)"
  renderDiff(d.diff, d.diff_truncated)
  $("log").textContent = d.events.map(logLine).join("\n")
  const judged = d.run.state === "blocked" || d.run.state === "succeeded"
  const resumable = d.run.state === "interrupted" || d.run.state === "cancelled"
  $("actions").hidden = !(judged || resumable || d.run.state === "failed" || d.run.state === "waiting")
  $("verdict-actions").hidden = !judged
  $("retry").textContent = resumable ? "Resume this run" : "Run again (new attempt)"
  $("retry").dataset.newAttempt = resumable ? "" : "yes"
  $("token-missing").hidden = !!token
}

// The run's diff, a line at a time, coloured by what each line is (as text: a diff is agent output).
function renderDiff(diff, truncated) {
  const lines = diff ? diff.split("\n") : []
  const shown = lines.slice(0, 5000)
  $("diff-note").textContent =
    diff == null
      ? "(none yet)"
      : `${lines.length} lines${truncated || lines.length > shown.length ? ", cut short" : ""}`
  $("diff").replaceChildren(
    ...shown.map((l) => {
      const kind =
        l.startsWith("diff --git") || l.startsWith("+++ ") || l.startsWith("--- ")
          ? "file"
          : l.startsWith("@@")
            ? "hunk"
            : l.startsWith("+")
              ? "add"
              : l.startsWith("-")
                ? "del"
                : ""
      return el("span", { className: kind }, `${l}\n`)
    })
  )
}

function logLine(e) {
  const d = e.data || {}
  const text =
    e.kind === "stage"
      ? `${d.stage} ${d.state}${d.summary ? `: ${d.summary}` : d.message ? `: ${d.message}` : ""}`
      : e.kind === "note"
        ? d.text
        : e.kind === "step"
          ? `verify ${d.name}: ${d.outcome}`
          : e.kind === "verdict"
            ? d.mergeable
              ? "MERGEABLE"
              : `BLOCKED by ${[].concat(d.failed || [], d.notJudgeable || []).join(", ")}`
            : e.kind === "agent"
              ? agentLine(d)
              : e.kind === "agent-outcome" && d.outcome
                ? `agent ${d.outcome.kind}${d.outcome.filesChanged ? `, ${d.outcome.filesChanged.length} file(s) changed` : ""}`
                : short(JSON.stringify(d))
  return `${e.at.slice(11, 19)} ${e.kind.padEnd(7)} ${text}`
}

const short = (text) => (text.length > 300 ? `${text.slice(0, 300)}\u2026` : text)

// One line for an agent's event (message, tool call, command, file change, ...).
function agentLine(d) {
  switch (d._tag) {
    case "message":
    case "reasoning":
      return `${d._tag}: ${d.text}`
    case "tool_call":
      return `tool ${d.name}`
    case "tool_result":
      return `tool ${d.name || d.id}${d.error ? ` failed: ${d.error}` : " done"}`
    case "command":
      return `$ ${d.command}${d.exitCode != null ? ` (exit ${d.exitCode})` : ""}`
    case "file_change":
      return `${d.kind} ${d.path}`
    case "plan":
      return `plan: ${d.entries.map((p) => `[${p.status}] ${p.text}`).join("; ")}`
    case "turn_end":
      return `turn ended: ${d.reason}`
    case "error":
      return `error: ${d.message}`
    default:
      return short(JSON.stringify(d))
  }
}

async function act(kind, form) {
  const f = form ? new FormData(form) : null
  const issue = runs.get(selected).issue_id
  const body =
    kind === "review"
      ? {
          verdict: f.get("verdict"),
          reviewedBy: f.get("who"),
          ...(f.get("summary") ? { summary: f.get("summary") } : {})
        }
      : kind === "accept"
        ? { acceptedBy: f.get("who"), ...(f.get("note") ? { note: f.get("note") } : {}) }
        : { newAttempt: $("retry").dataset.newAttempt === "yes" }
  try {
    const r = await api(`/api/v1/${encodeURIComponent(issue)}/${kind}`, { method: "POST", body: JSON.stringify(body) })
    $("action-result").textContent =
      kind === "retry"
        ? r.finished
          ? `ran again and finished (its output: ${r.log})`
          : `running again (its output: ${r.log})`
        : `recorded; the gate now says ${r.report.verdict.mergeable ? "MERGEABLE" : `BLOCKED: ${r.report.verdict.headline}`}`
  } catch (e) {
    $("action-result").textContent = e.message
  }
  await Promise.all([loadState(), loadAttention(), openRun(selected)])
}

let attentionTimer = null
function connect() {
  const feed = new EventSource(`/api/v1/events${token ? `?token=${encodeURIComponent(token)}` : ""}`)
  feed.onopen = () => {
    $("live").textContent = "live"
    $("live").className = "pill on"
  }
  feed.onerror = () => {
    $("live").textContent = "reconnecting"
    $("live").className = "pill off"
  }
  feed.addEventListener("run", (m) => {
    const r = JSON.parse(m.data)
    runs.set(r.run_id, r)
    renderRuns()
    clearTimeout(attentionTimer)
    attentionTimer = setTimeout(
      () =>
        Promise.all([
          loadState(),
          loadAttention(),
          loadMissions(),
          r.finished_at ? loadStats() : null,
          r.finished_at ? loadEvolution() : null
        ]).catch(() => {}),
      200
    )
    if (r.run_id === selected) openRun(selected).catch(() => {})
  })
  feed.addEventListener("log", (m) => {
    const e = JSON.parse(m.data)
    if (e.runId !== selected) return
    const log = $("log")
    log.textContent += (log.textContent ? "\n" : "") + logLine(e)
  })
}

document.addEventListener("DOMContentLoaded", () => {
  $("detail-close").addEventListener("click", () => {
    selected = null
    $("detail").hidden = true
    renderRuns()
  })
  $("copy-log").addEventListener("click", (e) => {
    e.preventDefault()
    navigator.clipboard && navigator.clipboard.writeText($("log").textContent)
  })
  $("review-form").addEventListener("submit", (e) => {
    e.preventDefault()
    act("review", e.target)
  })
  $("accept-form").addEventListener("submit", (e) => {
    e.preventDefault()
    act("accept", e.target)
  })
  $("retry").addEventListener("click", () => act("retry", null))
  for (const id of ["metrics-by", "metrics-bucket"])
    $(id).addEventListener("change", () => loadMetrics().catch(() => {}))
  Promise.all([loadState(), loadAttention(), loadMissions(), loadDaemon(), loadStats(), loadEvolution()]).catch((e) => {
    $("totals").textContent = e.message
  })
  // The daemon's heartbeat moves without any run changing: look again every 10 s.
  setInterval(() => loadDaemon().catch(() => {}), 10_000)
  connect()
})
