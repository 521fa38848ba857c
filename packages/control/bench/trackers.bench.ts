/**
 * Tracker costs against the loopback fakes (real HTTP, real SDKs): listing 1,000 candidate issues
 * from Linear (what a daemon poll cycle pays for the tracker) and from GitHub, and an idempotent
 * re-publish of a comment that already exists. Median of 7 runs after 1 warm-up.
 */
import { NodeServices } from "@effect/platform-node"
import { ConfigFile, IssueSource, Project } from "@spec-orch/contract"
import { startFakeGitHub, startFakeLinear } from "@spec-orch/test-kit"
import { ConfigProvider, Effect, Layer } from "effect"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Publisher } from "../src/publish/Publisher.js"
import { GitHub } from "../src/trackers/GitHub.js"
import { Linear } from "../src/trackers/Linear.js"
import { RequestBudget } from "../src/trackers/RequestBudget.js"
import { GitHubIssueSource, LinearIssueSource } from "../src/trackers/TrackerIssueSource.js"

const median = (xs: Array<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const report = (metric: string, value: number, unit: string, target?: string, note?: string) =>
  console.log(
    JSON.stringify({
      bench: "trackers",
      metric,
      value: Math.round(value * 10) / 10,
      unit,
      ...(target ? { target } : {}),
      ...(note ? { note } : {})
    })
  )

const linear = await startFakeLinear()
const github = await startFakeGitHub()
github.addRepo("acme/widgets")
for (let i = 1; i <= 1000; i++) {
  linear.addIssue({
    title: `Issue ${i}`,
    state: i % 10 === 0 ? "Backlog" : "Ready",
    labels: ["agent"],
    description: `## Builder Prompt\nDo ${i}.\n\n## Acceptance Criteria\n- [ ] works\n`
  })
  github.addIssue("acme/widgets", { title: `Issue ${i}`, labels: ["agent"], body: `Do ${i}.\n\n- [ ] works` })
}
const number = github.addIssue("acme/widgets", { title: "target" })

const world = Layer.mergeAll(Linear.layer, GitHub.layer).pipe(
  Layer.provideMerge(RequestBudget.layerUnlimited),
  Layer.provideMerge(
    Project.layerFrom(
      mkdtempSync(join(tmpdir(), "bench-trackers-")),
      ConfigFile.parse({
        linear: { api_url: linear.url, team_key: "SON" },
        github: { api_url: github.url, repo: "acme/widgets" }
      })
    )
  ),
  Layer.provideMerge(
    ConfigProvider.layer(
      ConfigProvider.fromEnvRecord({ SPEC_ORCH_LINEAR_TOKEN: linear.token, GITHUB_TOKEN: github.token })
    )
  ),
  Layer.provideMerge(NodeServices.layer)
)

const timeIt = async (effect: Effect.Effect<unknown, unknown, never>, runs = 7) => {
  const samples: Array<number> = []
  for (let i = 0; i < runs + 1; i++) {
    const t = process.hrtime.bigint()
    await Effect.runPromise(effect)
    if (i > 0) samples.push(Number(process.hrtime.bigint() - t) / 1e6)
  }
  return median(samples)
}

const listAll = IssueSource.use((s) => s.list({ limit: 1000 }))
const linearList = listAll.pipe(Effect.provide(LinearIssueSource.pipe(Layer.provideMerge(world))))
const githubList = listAll.pipe(Effect.provide(GitHubIssueSource.pipe(Layer.provideMerge(world))))
const republish = Publisher.use((p) =>
  p.comment({ target: { tracker: "github", number }, key: "bench", body: "same body" })
).pipe(Effect.provide(Publisher.layer.pipe(Layer.provideMerge(world))))

const before = linear.requests.length
report(
  "linear: list 1,000 candidate issues",
  await timeIt(linearList),
  "ms",
  "< 1000 ms against a loopback server",
  `${(linear.requests.length - before) / 8} requests per listing`
)
const ghBefore = github.requests.length
report(
  "github: list 1,000 issues",
  await timeIt(githubList),
  "ms",
  undefined,
  `${(github.requests.length - ghBefore) / 8} requests per listing`
)
report("github: re-publish an unchanged comment", await timeIt(republish), "ms", undefined, "list + compare, no write")

await linear.close()
await github.close()
