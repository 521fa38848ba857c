/**
 * Handler of `spec-orch dashboard`: serves the control plane's dashboard routes on Node's HTTP server,
 * over the project's stores, with a fresh token per start for actions. The page's files ship beside
 * the binary (dist/dashboard), or come from the control package's sources when run from a clone.
 */
import { NodeHttpServer } from "@effect/platform-node"
import { IssueSource, Project, Specs } from "@spec-orch/contract"
import { Dashboard, DashboardActions, DashboardRoutes, DaemonStore } from "@spec-orch/control"
import { Proposals } from "@spec-orch/evolution"
import type { Redactor } from "@spec-orch/harness"
import { Console, Effect, Layer, Option, Schema } from "effect"
import type { SqlClient } from "effect/sql"
import { HttpRouter, HttpServer } from "effect/http"
import { randomBytes } from "node:crypto"
import { spawn } from "node:child_process"
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from "node:fs"
import { createServer } from "node:http"
import { dirname, join } from "node:path"
import { withPlanes } from "../Planes.js"
import { acceptanceOf, InvalidFlagValue, recordAcceptance, recordReview } from "./evidence.run.js"

/** The page's directory: beside the bundle, else the control package's sources (a clone's `src`). */
const pageDir = (): string => {
  const bin = process.argv[1] ?? ""
  const candidates = [
    join(dirname(bin), "dashboard"),
    join(dirname(bin), "..", "..", "..", "packages", "control", "src", "dashboard", "page")
  ]
  return candidates.find((d) => existsSync(join(d, "index.html"))) ?? candidates[0]!
}

const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1"])

/**
 * `spec-orch run <issue>` in a process of its own, detached from the dashboard (the run's engine and
 * locks are that process's). Waits up to 3 s: a refusal in that time (spec not approved, already
 * running) is the action's answer; after that the run is under way and the store shows it. Its output
 * goes to `<state dir>/dashboard/run-<issue>.log`.
 */
const retry = (input: { readonly issue: string; readonly newAttempt: boolean }) =>
  Effect.gen(function* () {
    const project = yield* Project
    const dir = join(project.stateDir, "dashboard")
    mkdirSync(dir, { recursive: true })
    const log = join(dir, `run-${input.issue.replace(/[^A-Za-z0-9._-]/g, "_")}.log`)
    const out = openSync(log, "w")
    const args = [
      process.argv[1]!,
      "--cwd",
      project.root,
      "run",
      input.issue,
      ...(input.newAttempt ? ["--new-attempt"] : [])
    ]
    const child = spawn(process.execPath, args, {
      cwd: project.root,
      env: process.env,
      detached: true,
      stdio: ["ignore", out, out]
    })
    closeSync(out)
    const exited = yield* Effect.callback<number | null>((resume) => {
      const timer = setTimeout(() => resume(Effect.succeed(null)), 3_000)
      child.once("exit", (code) => {
        clearTimeout(timer)
        resume(Effect.succeed(code ?? 1))
      })
      child.once("error", () => {
        clearTimeout(timer)
        resume(Effect.succeed(1))
      })
    })
    if (exited === null) {
      child.unref()
      return { started: true, issue: input.issue, pid: child.pid ?? null, log }
    }
    // A refusal is an error line; a run that finished this fast (exit 1 when blocked) is an answer too.
    const said = readFileSync(log, "utf8")
      .split("\n")
      .filter((l) => l.startsWith("spec-orch:"))
      .map((l) => l.replace(/^spec-orch:\s*/, ""))
      .join(" ")
    if (exited !== 0 && said !== "") return yield* Effect.fail({ message: said })
    return { started: true, finished: true, exitCode: exited, issue: input.issue, log }
  })

/** `spec-orch <args> --json` in this project, to its end: its JSON answer, or its refusal in its own words. */
const cliOnce = (args: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const project = yield* Project
    const child = spawn(process.execPath, [process.argv[1]!, "--cwd", project.root, ...args, "--json"], {
      cwd: project.root,
      env: process.env,
      stdio: ["ignore", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    child.stdout!.on("data", (d) => (stdout += d))
    child.stderr!.on("data", (d) => (stderr += d))
    const code = yield* Effect.callback<number>((resume) => {
      child.once("exit", (c) => resume(Effect.succeed(c ?? 1)))
      child.once("error", () => resume(Effect.succeed(1)))
    })
    if (code !== 0) {
      const said = stderr
        .split("\n")
        .filter((l) => l.startsWith("spec-orch:"))
        .map((l) => l.replace(/^spec-orch:\s*/, ""))
        .join(" ")
      return yield* Effect.fail({ message: said !== "" ? said : `spec-orch ${args.join(" ")} failed (exit ${code})` })
    }
    return Option.getOrElse(parseJson(stdout), () => ({ output: stdout }))
  })
const parseJson = Schema.decodeUnknownOption(Schema.fromJsonString(Schema.Unknown))

/** The page's actions, through the same code as `review-issue`, `accept-issue` and `questions answer`. */
export const Actions = Layer.effect(
  DashboardActions,
  Effect.gen(function* () {
    const context = yield* Effect.context<
      | Effect.Services<ReturnType<typeof recordReview>>
      | Effect.Services<ReturnType<typeof acceptanceOf>>
      | IssueSource
      | Specs
      | Project
      | SqlClient.SqlClient
      | Redactor
    >()
    const refused = (e: unknown) => ({
      message: typeof e === "object" && e !== null && "message" in e ? String(e.message) : String(e)
    })
    // What the API returns is plain JSON (the ledger's records are schema classes).
    const plain = (value: unknown): unknown => JSON.parse(JSON.stringify(value))
    return DashboardActions.of({
      review: (input) =>
        recordReview(input).pipe(
          Effect.map((r) => plain({ review: r.review, report: r.report })),
          Effect.mapError(refused),
          Effect.provide(context)
        ),
      accept: (input) =>
        Effect.flatMap(acceptanceOf(input.issue), (checked) => recordAcceptance(input, checked)).pipe(
          Effect.map((r) => plain({ acceptance: r.acceptance, report: r.report })),
          Effect.mapError(refused),
          Effect.provide(context)
        ),
      retry: (input) => retry(input).pipe(Effect.provide(context)),
      release: (input) => cliOnce(["daemon", "dlq-retry", input.issue]).pipe(Effect.provide(context)),
      // The same move as `evolution approve|reject`: Proposals.transition holds the rules (which states allow it).
      proposal: (input) =>
        Effect.gen(function* () {
          const by = input.decidedBy.trim()
          const verb = input.decision === "approve" ? "approved" : "rejected"
          if (by === "")
            return yield* Effect.fail({
              message: `a proposal is ${verb} by a person: give your name as decidedBy (it is recorded in ${input.id}'s history)`
            })
          const why = input.why?.trim() || `${verb} by ${by} from the dashboard`
          const moved = yield* (yield* Proposals).transition(input.id, verb, { actor: { type: "human", id: by }, why })
          return plain(moved)
        }).pipe(
          Effect.mapError(refused),
          // Provided per action: the dashboard does not create the proposal tables just by starting.
          Effect.provide(Proposals.layer),
          Effect.provide(context)
        ),
      answer: (input) =>
        Effect.gen(function* () {
          const issue = yield* (yield* IssueSource).get(input.issue)
          return plain(yield* (yield* Specs).answer(issue, input.questionId, input.answer, input.decidedBy))
        }).pipe(Effect.mapError(refused), Effect.provide(context))
    })
  })
)

/** The server could not listen where it was asked to. */
export class DashboardCannotListen extends Schema.TaggedError<DashboardCannotListen>()("DashboardCannotListen", {
  host: Schema.String,
  port: Schema.Number,
  reason: Schema.String
}) {
  override get message(): string {
    return `the dashboard cannot listen on ${this.host}:${this.port}: ${this.reason}`
  }
}

const whyNotListening = (cause: unknown): string => {
  const code = (cause as { code?: unknown } | undefined)?.code
  return code === "EADDRINUSE"
    ? "the port is in use; pick another with --port, or --port 0 for a free one"
    : code === "EADDRNOTAVAIL"
      ? "this machine has no such address (--host)"
      : code === "EACCES"
        ? "not allowed (ports below 1024 need privileges); pick another with --port"
        : String((cause as { message?: unknown } | undefined)?.message ?? cause)
}

export const dashboard = (input: { port: number; host: string; json: boolean }) =>
  withPlanes(
    Effect.gen(function* () {
      if (!Number.isInteger(input.port) || input.port < 0 || input.port > 65535) {
        return yield* new InvalidFlagValue({
          flag: "--port",
          reason: `${input.port} is not a port: use 1 to 65535, or 0 for a free one`
        })
      }
      const token = randomBytes(18).toString("base64url")
      const routes = DashboardRoutes({ token, tokenForReads: !LOOPBACK.has(input.host), pageDir: pageDir() })
      const server = HttpRouter.serve(routes, { disableLogger: true, disableListenLog: true }).pipe(
        Layer.provideMerge(NodeHttpServer.layer(createServer, { port: input.port, host: input.host })),
        Layer.provide(Dashboard.layer.pipe(Layer.provide(DaemonStore.layer))),
        Layer.provide(Actions)
      )
      yield* Effect.gen(function* () {
        const address = (yield* HttpServer.HttpServer).address
        const base = HttpServer.formatAddress(address)
        const url = `${base}/#token=${token}`
        yield* input.json
          ? Console.log(JSON.stringify({ url, base, token, api: `${base}/api/v1` }))
          : Console.log(
              [
                `spec-orch dashboard: ${url}`,
                `  API: ${base}/api/v1/state; actions need the token ${token} (in the Authorization header, docs/dashboard.md)`,
                "  Ctrl-C stops it."
              ].join("\n")
            )
        return yield* Effect.never
      }).pipe(
        Effect.provide(server),
        Effect.catchTag("ServeError", (e) =>
          Effect.fail(
            new DashboardCannotListen({ host: input.host, port: input.port, reason: whyNotListening(e.cause) })
          )
        )
      )
    })
  )
