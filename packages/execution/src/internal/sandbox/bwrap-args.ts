/**
 * The bubblewrap command line for one box, as a pure function of what to run and what the host looks
 * like. The rule: mounts are applied in order and later ones win, so the base layout comes first, then
 * the hidden paths, then the caller's mounts, then the network sockets — never reorder them.
 */
import type { BoxSpec } from "../../Sandbox.js"

/** A host path made empty inside the box: a directory becomes an empty read-only tmpfs, anything else /dev/null. */
export interface HiddenPath {
  readonly path: string
  readonly kind: "dir" | "file"
}

/** A Unix socket on the host that a port on the box's loopback relays to. */
export interface Relay {
  readonly port: number
  readonly socket: string
}

/** The host side of the box's network: a private directory of sockets, bound read-only at the same path. */
export interface NetworkLayout {
  readonly socketDir: string
  /** The HTTP proxy for allowed host names, when any host is allowed. */
  readonly proxy?: Relay | undefined
  /** One relay per forwarded host-loopback port (same port inside). */
  readonly forwards: ReadonlyArray<Relay>
}

/** Host facts the command line depends on; resolved by the `Sandbox` service, plain data here. */
export interface BoxLayout {
  /** Absolute path of the bwrap executable. */
  readonly bwrap: string
  readonly hidden: ReadonlyArray<HiddenPath>
  /** Absent for a box without any relay (network `none`, or `allow` with nothing allowed). */
  readonly network?: NetworkLayout | undefined
  /** Absolute paths of the programs the network wrapper runs inside the box. */
  readonly tools: { readonly sh: string; readonly socat: string; readonly sleep: string }
}

/**
 * Namespaces and process hygiene shared by every box, including the probe. Kernel settings under
 * /proc/sys and /proc/sysrq-trigger are bound read-only explicitly: bubblewrap's own cover of them is
 * skipped when it runs as root, and a root process without capabilities may still write them
 * (`kernel.core_pattern` runs a program of its choice on the host).
 */
export const BASE_ARGS: ReadonlyArray<string> = [
  "--ro-bind",
  "/",
  "/",
  "--dev",
  "/dev",
  "--proc",
  "/proc",
  "--ro-bind",
  "/proc/sys",
  "/proc/sys",
  "--ro-bind-try",
  "/proc/sysrq-trigger",
  "/proc/sysrq-trigger",
  "--tmpfs",
  "/tmp",
  "--unshare-pid",
  "--unshare-ipc",
  "--unshare-uts",
  "--unshare-cgroup-try",
  "--unshare-net",
  "--die-with-parent",
  "--new-session",
  "--cap-drop",
  "ALL"
]

/** Polls of /proc/net/sockstat with shell builtins only (a few µs each), before the wrapper sleeps between polls. */
const RELAY_BUSY_POLLS = 2000
/** Polls with a 10 ms sleep after that (2.5 s and the sleeps' own start-up) before the wrapper gives up. */
const RELAY_SLEEP_POLLS = 250

/** The full argv to spawn on the host (bwrap first); the environment is passed by the spawn, not here. */
export const bwrapArgs = (spec: BoxSpec, layout: BoxLayout): ReadonlyArray<string> => {
  const args: Array<string> = [layout.bwrap, ...BASE_ARGS]
  for (const h of layout.hidden) {
    if (h.kind === "dir") args.push("--tmpfs", h.path)
    else args.push("--ro-bind", "/dev/null", h.path)
  }
  for (const m of spec.mounts) args.push(m.access === "rw" ? "--bind" : "--ro-bind", m.source, m.target ?? m.source)
  // A hidden directory is empty AND read-only: a write there fails loudly (the agent sees EROFS, the
  // evidence shows a failed tool call) instead of vanishing with the box. Not recursive: mounts made
  // inside it above keep their own access.
  for (const h of layout.hidden) if (h.kind === "dir") args.push("--remount-ro", h.path)
  const relays = layout.network === undefined ? [] : relaysOf(layout.network)
  if (layout.network !== undefined && relays.length > 0)
    args.push("--ro-bind", layout.network.socketDir, layout.network.socketDir)
  args.push("--chdir", spec.cwd, "--")
  if (relays.length === 0) return [...args, ...spec.argv]
  return [...args, layout.tools.sh, "-c", relayScript(relays, layout.tools), "spec-orch-sandbox", ...spec.argv]
}

const relaysOf = (network: NetworkLayout): ReadonlyArray<Relay> => [
  ...(network.proxy ? [network.proxy] : []),
  ...network.forwards
]

/** Quotes a word for a POSIX shell. */
const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`

/**
 * The `sh` wrapper inside the box: one socat per relay listening on 127.0.0.1, a bounded wait until
 * all of them listen, then `exec` of the command so it keeps the wrapper's pid, stdin and exit status.
 * The wait reads the box's own count of TCP sockets in /proc/net/sockstat (the network namespace is
 * fresh, so it counts exactly the relays' listening sockets); /proc/net/tcp would do too, but a
 * shell reading it line by line spends ~20 ms per pass walking the host's socket tables. The relays
 * hold none of the command's stdio: its prompt stays its own, and its output ends when it exits.
 */
export const relayScript = (relays: ReadonlyArray<Relay>, tools: BoxLayout["tools"]): string => {
  const lines = relays.map(
    (r) =>
      `${q(tools.socat)} TCP-LISTEN:${r.port},bind=127.0.0.1,fork,reuseaddr UNIX-CONNECT:${q(r.socket)} </dev/null >/dev/null 2>&1 &`
  )
  return [
    ...lines,
    `n=0`,
    `while :; do`,
    `  up=`,
    `  while read -r p _ u _; do if [ "$p" = TCP: ]; then [ "$u" -ge ${relays.length} ] && up=1; break; fi; done < /proc/net/sockstat`,
    `  [ -n "$up" ] && break`,
    `  n=$((n + 1))`,
    `  if [ "$n" -gt ${RELAY_BUSY_POLLS + RELAY_SLEEP_POLLS} ]; then echo "spec-orch sandbox: the network relays (127.0.0.1 ports ${relays.map((r) => r.port).join(", ")}) did not start within a few seconds" >&2; exit 125; fi`,
    `  [ "$n" -gt ${RELAY_BUSY_POLLS} ] && ${q(tools.sleep)} 0.01`,
    `done`,
    `exec "$@"`
  ].join("\n")
}
