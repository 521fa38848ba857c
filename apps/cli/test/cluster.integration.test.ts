/**
 * `[cluster]` as an operator meets it: `doctor` checks the shared Postgres and this runner's address
 * (never showing the URL's password), `daemon start --once`, which one host cannot do for the whole
 * cluster, refuses plainly, a Postgres that does not answer stops a command with what to fix, and so does a runner address this host cannot listen on (the cluster itself: cluster-daemon.postgres.integration.test.ts). Fails when
 * SPEC_ORCH_PG_URL is not set, unless SPEC_ORCH_SKIP_POSTGRES=1.
 */
import { assert, describe, it } from "@effect/vitest"
import { freePorts, requirePostgres } from "@spec-orch/test-kit"
import { createServer } from "node:net"
import { makeProject } from "./utils/project.js"

const pg = requirePostgres()

const json = (text: string) =>
  JSON.parse(text) as { ok: boolean; checks: Array<{ name: string; status: string; detail: string; fix?: string }> }

describe.skipIf(!pg.run)(pg.title("spec-orch [cluster]"), () => {
  it("doctor checks the cluster's Postgres and runner address; daemon start --once refuses on a cluster", async () => {
    const [port] = await freePorts(1)
    const url = new URL(pg.url!)
    url.password = "pw-never-shown"
    const p = makeProject({
      toml: `[cluster]\nstorage = "postgres"\nurl_env = "CLUSTER_PG"\nrunner_address = "127.0.0.1:${port}"\n[daemon]\ngate_profile = "e2e"\n`,
      env: { CLUSTER_PG: url.toString() }
    })
    const r = p.cli("doctor", "--json")
    const checks = json(r.stdout).checks.filter((c) => c.name.startsWith("cluster"))
    assert.deepStrictEqual(
      checks.map((c) => [c.name, c.status]),
      [
        ["cluster postgres", "ok"],
        ["cluster runner", "ok"]
      ],
      r.stdout + r.stderr
    )
    assert.include(checks[0]!.detail, `${url.hostname}:${url.port}`)
    assert.notInclude(r.stdout + r.stderr, "pw-never-shown")

    const d = p.cli("daemon", "start", "--once")
    assert.strictEqual(d.status, 1, d.stdout + d.stderr)
    assert.match(d.stderr, /with \[cluster\] storage = "postgres" the daemon runs once for the whole cluster/)
  })

  it("a Postgres that does not answer stops a command with where and what to fix, and is a ✗ check in doctor, which goes on", async () => {
    // Nothing listens on this port.
    const [port, runner] = await freePorts(2)
    const p = makeProject({
      toml: `[cluster]\nstorage = "postgres"\nurl_env = "CLUSTER_PG"\nrunner_address = "127.0.0.1:${runner}"\n`,
      env: { CLUSTER_PG: `postgres://spec:pw-never-shown@127.0.0.1:${port}/orch` }
    })
    for (const args of [["status"], ["gate", "evaluate", "CL-1"], ["memory", "status"]]) {
      const r = p.cli(...args)
      assert.strictEqual(r.status, 1, `${args.join(" ")}: ${r.stdout}${r.stderr}`)
      assert.strictEqual(
        r.stderr.trim(),
        `spec-orch: [cluster] storage = "postgres": the cluster's Postgres at 127.0.0.1:${port} (URL from CLUSTER_PG) does not answer: ` +
          `PgConnection: Failed to connect: connect ECONNREFUSED 127.0.0.1:${port}; start the server, or fix the host, port, user, ` +
          "password or database in CLUSTER_PG (`spec-orch doctor` checks it)",
        args.join(" ")
      )
    }
    const doctor = p.cli("doctor", "--json")
    assert.strictEqual(doctor.status, 1, doctor.stderr)
    const checks = json(doctor.stdout).checks
    assert.deepStrictEqual(
      checks.filter((c) => c.status === "fail").map((c) => c.name),
      ["cluster postgres"]
    )
    assert.includeMembers(
      checks.map((c) => c.name),
      ["git", "sandbox", "cluster runner", "disk"]
    )
    assert.notInclude(doctor.stdout + doctor.stderr, "pw-never-shown")
  })

  it("daemon start on a runner address another program holds says so, naming the setting, before joining", async () => {
    const holder = createServer()
    const port = await new Promise<number>((resolve) =>
      holder.listen(0, "127.0.0.1", () => resolve((holder.address() as { port: number }).port))
    )
    try {
      const p = makeProject({
        toml: `[cluster]\nstorage = "postgres"\nurl_env = "CLUSTER_PG"\nrunner_address = "127.0.0.1:${port}"\n`,
        env: { CLUSTER_PG: pg.url! }
      })
      const d = p.cli("daemon", "start")
      assert.strictEqual(d.status, 1, d.stdout + d.stderr)
      assert.include(d.stderr, `[cluster] runner_address = "127.0.0.1:${port}": cannot listen there`)
      assert.include(d.stderr, "is in use")
      assert.notInclude(d.stderr, "Open:")
      assert.notInclude(d.stderr, "joining")
    } finally {
      holder.close()
    }
  })
})
