import { assert, describe, it } from "@effect/vitest"
import { ConfigFile } from "@spec-orch/contract"
import { type BoxLayout, type BoxSpec, bwrapArgs, DEFAULT_HIDDEN, hostAllowed, worktreeMounts } from "../src/index.js"
import { relayScript } from "../src/internal/sandbox/bwrap-args.js"

const tools: BoxLayout["tools"] = { sh: "/bin/sh", socat: "/usr/bin/socat", sleep: "/usr/bin/sleep" }

const spec = (over: Partial<BoxSpec> = {}): BoxSpec => ({
  argv: ["npm", "test"],
  cwd: "/work/wt",
  env: { PATH: "/usr/bin" },
  hide: [],
  mounts: [{ source: "/work/wt", access: "rw" }],
  network: { _tag: "none" },
  ...over
})

/** The value after each occurrence of `flag` (or the pair after it, for two-argument flags). */
const valuesAfter = (argv: ReadonlyArray<string>, flag: string, width = 1) =>
  argv.flatMap((a, i) => (a === flag ? [argv.slice(i + 1, i + 1 + width).join(" ")] : []))

describe("bwrapArgs", () => {
  it("starts from a read-only root with fresh /dev, /proc (kernel settings read-only) and /tmp, its own namespaces, no capabilities and no network", () => {
    const argv = bwrapArgs(spec(), { bwrap: "/usr/bin/bwrap", hidden: [], tools })
    assert.strictEqual(argv[0], "/usr/bin/bwrap")
    assert.deepStrictEqual(argv.slice(1, 8), ["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"])
    assert.deepStrictEqual(argv.slice(8, 14), [
      "--ro-bind",
      "/proc/sys",
      "/proc/sys",
      "--ro-bind-try",
      "/proc/sysrq-trigger",
      "/proc/sysrq-trigger"
    ])
    assert.deepStrictEqual(argv.slice(14, 16), ["--tmpfs", "/tmp"])
    for (const flag of [
      "--unshare-pid",
      "--unshare-ipc",
      "--unshare-uts",
      "--unshare-cgroup-try",
      "--unshare-net",
      "--die-with-parent",
      "--new-session"
    ]) {
      assert.include(argv, flag)
    }
    assert.deepStrictEqual(valuesAfter(argv, "--cap-drop"), ["ALL"])
    assert.notInclude(argv, "--share-net")
  })

  it("runs the command as given in cwd, without a shell, and keeps the environment out of the command line", () => {
    const argv = bwrapArgs(spec({ env: { ANTHROPIC_API_KEY: "sk-secret" } }), { bwrap: "bwrap", hidden: [], tools })
    assert.deepStrictEqual(argv.slice(-5), ["--chdir", "/work/wt", "--", "npm", "test"])
    assert.isFalse(argv.some((a) => a.includes("sk-secret")))
    assert.notInclude(argv, "--setenv")
  })

  it("hides after the base layout and before the caller's mounts, so a mount can re-expose part of a hidden tree", () => {
    const argv = bwrapArgs(
      spec({
        mounts: [
          { source: "/home/u/.cache/wt", access: "rw" },
          { source: "/repo/.git", target: "/repo/.git", access: "ro" }
        ]
      }),
      {
        bwrap: "bwrap",
        hidden: [
          { path: "/home/u", kind: "dir" },
          { path: "/home/u/.netrc", kind: "file" }
        ],
        tools
      }
    )
    const tmpfs = argv.indexOf("/home/u")
    const netrc = argv.lastIndexOf("/home/u/.netrc")
    const wt = argv.indexOf("/home/u/.cache/wt")
    assert.strictEqual(argv[tmpfs - 1], "--tmpfs")
    assert.deepStrictEqual(argv.slice(netrc - 2, netrc + 1), ["--ro-bind", "/dev/null", "/home/u/.netrc"])
    assert.isBelow(argv.indexOf("/tmp"), tmpfs)
    assert.isBelow(netrc, wt)
    assert.deepStrictEqual(valuesAfter(argv, "--bind", 2), ["/home/u/.cache/wt /home/u/.cache/wt"])
    assert.include(valuesAfter(argv, "--ro-bind", 2), "/repo/.git /repo/.git")
  })

  it("keeps the caller's mount order: a later mount wins over an earlier one", () => {
    const argv = bwrapArgs(
      spec({
        mounts: worktreeMounts({ worktree: "/c/wt", gitDir: "/r/.git/worktrees/wt", commonDir: "/r/.git" }, "commit")
      }),
      {
        bwrap: "bwrap",
        hidden: [],
        tools
      }
    )
    const i = (p: string) => argv.indexOf(p)
    assert.isBelow(i("/r/.git"), i("/r/.git/worktrees/wt"))
    assert.isBelow(i("/r/.git/worktrees/wt"), i("/r/.git/worktrees/wt/commondir"))
  })

  it("with relays, binds the socket directory read-only last and starts the command through the relay wrapper", () => {
    const network = {
      socketDir: "/tmp/spec-orch-net-1",
      proxy: { port: 3128, socket: "/tmp/spec-orch-net-1/proxy.sock" },
      forwards: [{ port: 11434, socket: "/tmp/spec-orch-net-1/port-11434.sock" }]
    }
    const argv = bwrapArgs(spec({ network: { _tag: "allow", hosts: ["api.anthropic.com"], forwards: [11434] } }), {
      bwrap: "bwrap",
      hidden: [],
      network,
      tools
    })
    const dash = argv.indexOf("--")
    assert.deepStrictEqual(argv.slice(dash - 5, dash - 2), [
      "--ro-bind",
      "/tmp/spec-orch-net-1",
      "/tmp/spec-orch-net-1"
    ])
    assert.include(argv, "--unshare-net")
    assert.deepStrictEqual(argv.slice(dash + 1, dash + 3), ["/bin/sh", "-c"])
    assert.deepStrictEqual(argv.slice(dash + 4), ["spec-orch-sandbox", "npm", "test"])
    const script = argv[dash + 3]!
    assert.include(
      script,
      "'/usr/bin/socat' TCP-LISTEN:3128,bind=127.0.0.1,fork,reuseaddr UNIX-CONNECT:'/tmp/spec-orch-net-1/proxy.sock'"
    )
    assert.include(script, "TCP-LISTEN:11434,bind=127.0.0.1")
    assert.match(script, /exec "\$@"$/)
  })

  it("without any relay, needs no wrapper and binds no socket directory", () => {
    const argv = bwrapArgs(spec({ network: { _tag: "allow", hosts: [], forwards: [] } }), {
      bwrap: "bwrap",
      hidden: [],
      network: { socketDir: "/tmp/x", forwards: [] },
      tools
    })
    assert.notInclude(argv, "/tmp/x")
    assert.deepStrictEqual(argv.slice(-3), ["--", "npm", "test"])
  })
})

describe("relayScript", () => {
  it("waits until the box's fresh network namespace counts one listening TCP socket per relay", () => {
    const script = relayScript(
      [
        { port: 3128, socket: "/s/p.sock" },
        { port: 8080, socket: "/s/f.sock" }
      ],
      tools
    )
    assert.include(script, "< /proc/net/sockstat")
    assert.include(script, `[ "$u" -ge 2 ] && up=1`)
    assert.include(script, "(127.0.0.1 ports 3128, 8080) did not start within a few seconds")
  })
})

describe("hostAllowed", () => {
  it("matches exact names regardless of case and a trailing dot", () => {
    assert.isTrue(hostAllowed("api.anthropic.com", ["api.anthropic.com"]))
    assert.isTrue(hostAllowed("API.Anthropic.com.", ["api.anthropic.com"]))
    assert.isFalse(hostAllowed("anthropic.com", ["api.anthropic.com"]))
    assert.isFalse(hostAllowed("api.anthropic.com.evil.example", ["api.anthropic.com"]))
  })

  it("lets *.example.com match names below it, not the name itself nor look-alikes", () => {
    assert.isTrue(hostAllowed("a.example.com", ["*.example.com"]))
    assert.isTrue(hostAllowed("a.b.example.com", ["*.example.com"]))
    assert.isFalse(hostAllowed("example.com", ["*.example.com"]))
    assert.isFalse(hostAllowed("evilexample.com", ["*.example.com"]))
  })

  it("allows nothing with an empty list or an empty name", () => {
    assert.isFalse(hostAllowed("api.anthropic.com", []))
    assert.isFalse(hostAllowed("", ["*.example.com"]))
  })
})

describe("worktreeMounts", () => {
  const paths = { worktree: "/c/wt", gitDir: "/r/.git/worktrees/wt", commonDir: "/r/.git" }

  it("by default makes the worktree writable and the whole git directory read-only", () => {
    assert.deepStrictEqual(worktreeMounts(paths), [
      { source: "/r/.git", access: "ro" },
      { source: "/c/wt", access: "rw" }
    ])
  })

  it("for commits opens objects, refs, logs and the worktree's own git directory, never hooks, config or its pointers", () => {
    const mounts = worktreeMounts(paths, "commit")
    const rw = mounts.filter((m) => m.access === "rw").map((m) => m.source)
    assert.deepStrictEqual(rw, ["/r/.git/objects", "/r/.git/refs", "/r/.git/logs", "/r/.git/worktrees/wt", "/c/wt"])
    assert.isFalse(rw.some((p) => p.includes("hooks") || p.endsWith("config")))
    assert.deepStrictEqual(mounts.slice(-3, -1), [
      { source: "/r/.git/worktrees/wt/commondir", access: "ro" },
      { source: "/r/.git/worktrees/wt/gitdir", access: "ro" }
    ])
  })
})

describe("DEFAULT_HIDDEN", () => {
  it("covers the usual credential stores and the host's service sockets", () => {
    for (const p of [
      "~/.ssh",
      "~/.aws",
      "~/.config/gh",
      "~/.git-credentials",
      "~/.netrc",
      "~/.npmrc",
      "~/.docker",
      "~/.kube",
      "~/.claude",
      "~/.config/spec-orch",
      "/run"
    ]) {
      assert.include(DEFAULT_HIDDEN, p)
    }
  })
})

describe("[sandbox] config", () => {
  it("defaults to best-effort, nothing extra hidden or allowed, and no network for verification", () => {
    assert.deepStrictEqual(ConfigFile.parse({}).sandbox, {
      mode: "best-effort",
      hide: [],
      allow_hosts: [],
      verification_network: false,
      writable: []
    })
  })

  it("accepts host names and *.domain patterns, and refuses URLs", () => {
    assert.deepStrictEqual(
      ConfigFile.parse({ sandbox: { allow_hosts: ["registry.npmjs.org", "*.githubusercontent.com"] } }).sandbox
        .allow_hosts,
      ["registry.npmjs.org", "*.githubusercontent.com"]
    )
    const bad = ConfigFile.safeParse({ sandbox: { allow_hosts: ["https://registry.npmjs.org/"] } })
    assert.isFalse(bad.success)
    assert.include(bad.error!.issues[0]!.message, "must be a host name such as api.example.com")
    assert.isFalse(ConfigFile.safeParse({ sandbox: { mode: "strict" } }).success)
  })
})
