/**
 * Cluster throughput and failover (docs/cluster.md): real `spec-orch daemon start` runners on one
 * Postgres database (SPEC_ORCH_PG_URL), each with its own clone of one bare remote, the fake GitHub as
 * tracker and an instant `command` agent.
 * - throughput: ISSUES issues with 1, 2 and 3 runners, from the issues' arrival to the last pull
 *   request; the ratio to linear is runs/min with N runners over N × runs/min with one.
 * - capacity-bound throughput: agents whose turns take WORK_S seconds without using the CPU, at most
 *   PER_HOST turns at once on each host (`[cluster] max_concurrent_per_host`): what adding hosts gives when
 *   the hosts' agent capacity, not this machine's CPU, is what limits the cluster.
 * - failover: 3 runners, agents that wait for a signal; the busiest runner is killed (SIGKILL, its agents
 *   with it) and the time until each of its runs started again on another runner is measured.
 * The tracker request budget (`[daemon] request_budget_per_minute`, the cluster's) is lifted: with the
 * default (120 a minute) the publish stages wait for the budget, and the bench would measure that.
 * All runners share this machine's cores: on 2 cores, more runners do not add CPU, so the ratio shows
 * what the cluster's coordination costs here, not what N machines give.
 */
import { processesUnder } from "@spec-orch/test-kit"

const ISSUES = 30
const EXPIRY_S = 4

const report = (metric: string, value: number, unit: string, target?: string, note?: string) =>
  console.log(
    JSON.stringify({
      bench: "cluster",
      metric,
      value: Math.round(value * 100) / 100,
      unit,
      ...(target ? { target } : {}),
      ...(note ? { note } : {})
    })
  )

const pgUrl = process.env.SPEC_ORCH_PG_URL
if (pgUrl === undefined || pgUrl === "") {
  report("not run", 0, "-", undefined, "set SPEC_ORCH_PG_URL to a Postgres server where databases may be created")
  process.exit(0)
}
// The CLI tests' cluster set-up (it needs SPEC_ORCH_PG_URL when it loads).
const { REPO, signal, startCluster, until } = await import("../test/utils/cluster.js")

const start = (hosts: number, agentWaits: boolean, capacity?: { readonly perHost: number; readonly workS: number }) =>
  startCluster({
    hosts,
    maxConcurrent: ISSUES,
    agentWaits,
    ...(capacity !== undefined
      ? {
          files: { "work-seconds": String(capacity.workS) },
          cluster: [`max_concurrent_per_host = ${capacity.perHost}`]
        }
      : {}),
    // The tracker budget (120 requests a minute by default, for the whole cluster) would be what this
    // measures: lifted, so the cluster is.
    daemon: () => ["poll_interval_seconds = 1", "request_budget_per_minute = 100000"]
  })

/** `BENCH_CLUSTER=cpu,capacity,failover` (default all): which parts to run. */
const parts = new Set((process.env.BENCH_CLUSTER ?? "cpu,capacity,failover").split(","))

// Throughput with 1, 2 and 3 runners.
const perMinute = new Map<number, number>()
for (const hosts of parts.has("cpu") ? [1, 2, 3] : []) {
  const c = await start(hosts, false)
  try {
    const t0 = Date.now()
    c.submit(ISSUES)
    await until("every pull request", () => c.github.pulls(REPO).length >= ISSUES, 600_000)
    const minutes = (Date.now() - t0) / 60_000
    const rate = ISSUES / minutes
    perMinute.set(hosts, rate)
    const spread = new Set(c.log().map((l) => l.host)).size
    report(
      `runs/min, ${hosts} runner(s)`,
      rate,
      "runs/min",
      undefined,
      `${ISSUES} issues in ${Math.round(minutes * 60)} s on ${spread} runner(s)`
    )
  } finally {
    await c.stop()
  }
}
const one = perMinute.get(1)!
for (const hosts of parts.has("cpu") ? [2, 3] : [])
  report(
    `throughput vs linear, ${hosts} runners`,
    perMinute.get(hosts)! / (hosts * one),
    "×",
    "≥ 0.8 (on separate machines)",
    "this machine's cores are shared by every runner"
  )

// Capacity-bound throughput with 1, 2 and 3 runners.
const PER_HOST = 2
const WORK_S = 6
const CAPACITY_ISSUES = 36
const bound = new Map<number, number>()
for (const hosts of parts.has("capacity") ? [1, 2, 3] : []) {
  const c = await start(hosts, false, { perHost: PER_HOST, workS: WORK_S })
  try {
    const t0 = Date.now()
    c.submit(CAPACITY_ISSUES)
    await until("every pull request", () => c.github.pulls(REPO).length >= CAPACITY_ISSUES, 600_000)
    const minutes = (Date.now() - t0) / 60_000
    bound.set(hosts, CAPACITY_ISSUES / minutes)
    report(
      `capacity-bound runs/min, ${hosts} runner(s)`,
      CAPACITY_ISSUES / minutes,
      "runs/min",
      undefined,
      `${CAPACITY_ISSUES} issues, ${WORK_S} s turns, ${PER_HOST} turns at once per host, in ${Math.round(minutes * 60)} s`
    )
  } finally {
    await c.stop()
  }
}
/**
 * What placement by the shard's hash alone would allow (the daemon chose no host before RunPlacement): the
 * busiest host gets more than ISSUES / N and the last turns wait on it. The expected makespan ratio of
 * uniform random placement, by simulation (a fixed seed: the same number every run), for comparison.
 */
const hashPlacementBound = (hosts: number, trials = 20_000) => {
  // mulberry32: a small 32-bit generator, exact in JavaScript's integer arithmetic.
  let seed = 42
  const random = () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
  const waves = (n: number) => Math.ceil(n / PER_HOST)
  let total = 0
  for (let t = 0; t < trials; t++) {
    const load = new Array<number>(hosts).fill(0)
    for (let i = 0; i < CAPACITY_ISSUES; i++) load[Math.floor(random() * hosts)]! += 1
    total += Math.max(...load.map(waves))
  }
  return waves(CAPACITY_ISSUES) / (hosts * (total / trials))
}
for (const hosts of parts.has("capacity") ? [2, 3] : []) {
  report(
    `capacity-bound throughput vs linear, ${hosts} runners`,
    bound.get(hosts)! / (hosts * bound.get(1)!),
    "×",
    "≥ 0.8",
    `turns wait on the hosts' agent capacity, not this machine's CPU; placement by the shard's hash alone would allow ${hashPlacementBound(hosts).toFixed(2)}× here`
  )
}

// Failover: the busiest of 3 runners dies mid-turn.
if (parts.has("failover")) {
  const c = await start(3, true)
  try {
    const ids = c.submit(6)
    await until(
      "every agent to start",
      () =>
        new Set(
          c
            .log()
            .filter((l) => l.what === "start")
            .map((l) => l.issue)
        ).size === ids.length,
      120_000
    )
    const started = c.log().filter((l) => l.what === "start")
    const busiest = [...new Set(started.map((l) => l.host))]
      .map((h) => [h, started.filter((l) => l.host === h).length] as const)
      .sort((a, b) => b[1] - a[1])[0]![0]
    const victim = c.daemons.find((d) => d.host === busiest)!
    const runs = started.filter((l) => l.host === busiest).map((l) => l.issue)
    const killed = Date.now()
    victim.child.kill("SIGKILL")
    for (const pid of processesUnder(victim.worktrees)) signal(Number(pid), "SIGKILL")
    await until(
      "the dead runner's runs to start elsewhere",
      () => runs.every((issue) => c.log().some((l) => l.what === "start" && l.issue === issue && l.host !== busiest)),
      120_000
    )
    report(
      "failover: death to the last of its runs restarted",
      (Date.now() - killed) / 1000,
      "s",
      `≤ ${2 * EXPIRY_S} s (2 × shard_lock_expiry_seconds)`,
      `${runs.length} run(s) of the killed runner`
    )
    c.release()
    await until("every pull request", () => c.github.pulls(REPO).length >= ids.length, 300_000)
  } finally {
    await c.stop()
  }
}
