/** `spec-orch dashboard`: a live web page and JSON API over the project's runs, on loopback. */
import { Command, Flag } from "effect/cli"
import { lazy } from "../Lazy.js"

const load = () => import("./dashboard.run.js")

export const dashboard = Command.make(
  "dashboard",
  {
    port: Flag.Int("port").pipe(Flag.withDescription("Port to listen on (0: a free port)"), Flag.withDefault(0)),
    host: Flag.String("host").pipe(
      Flag.withDescription(
        "Address to listen on (default 127.0.0.1; beyond loopback every API call needs the printed token)"
      ),
      Flag.withDefault("127.0.0.1")
    ),
    json: Flag.Boolean("json").pipe(
      Flag.withDescription("Print the URL and token as one JSON line instead of text"),
      Flag.withDefault(false)
    )
  },
  lazy(load, "dashboard")
).pipe(
  Command.withDescription(
    "Serve a live dashboard of this project's runs: what needs you now (reviews, acceptances, questions, dead letters), runs with their stage " +
      "timeline, gate conditions and how to unblock them, verification and explain.md, updated as runs move (also runs other terminals or the " +
      "daemon started). Prints the URL with a token that actions (review, accept, answer a question, run again) need. JSON API under /api/v1 (docs/dashboard.md). Ctrl-C stops it."
  ),
  Command.withExamples([
    { command: "spec-orch dashboard", description: "Serve on a free port on 127.0.0.1 and print the URL" },
    { command: "spec-orch dashboard --port 8080", description: "Serve on http://127.0.0.1:8080" }
  ])
)
