/**
 * Killing an agent with everything it started. Agents are spawned as process-group leaders; a kill
 * signals the group and every descendant found in /proc (which catches children that moved to a
 * group of their own), waits for them to go, then sends SIGKILL to whatever is left.
 */
import { readdirSync, readFileSync } from "node:fs"

interface Proc {
  readonly ppid: number
  readonly pgid: number
}

/** Parent pid and process group of every live (not zombie) process: Linux /proc; empty elsewhere. */
const processes = (): Map<number, Proc> => {
  const out = new Map<number, Proc>()
  let entries: Array<string>
  try {
    entries = readdirSync("/proc")
  } catch {
    return out
  }
  for (const e of entries) {
    const pid = Number(e)
    if (!Number.isInteger(pid)) continue
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
      // "pid (comm) state ppid pgrp ..." — comm may contain spaces and parentheses
      const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
      if (rest[0] === "Z") continue
      out.set(pid, { ppid: Number(rest[1]), pgid: Number(rest[2]) })
    } catch {
      // the process went away while we looked
    }
  }
  return out
}

/** Every live descendant of `pid`. */
export const descendants = (pid: number): Array<number> => {
  const byParent = new Map<number, Array<number>>()
  for (const [child, { ppid: parent }] of processes()) {
    const list = byParent.get(parent)
    if (list) list.push(child)
    else byParent.set(parent, [child])
  }
  const out: Array<number> = []
  const stack = [pid]
  while (stack.length > 0) {
    for (const c of byParent.get(stack.pop()!) ?? []) {
      out.push(c)
      stack.push(c)
    }
  }
  return out
}

/** State letter and start time (clock ticks since boot) of `pid`, or undefined when it does not exist (Linux). */
const statOf = (pid: number): { readonly state: string; readonly started: string } | undefined => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
    return { state: rest[0] ?? "", started: rest[19] ?? "" }
  } catch {
    return undefined
  }
}

/** Start time of a process in clock ticks since boot (Linux), so a reused pid is not mistaken for the one meant. */
export const startTime = (pid: number): string | undefined => statOf(pid)?.started

/** A process named by pid and start time: a later process given the same pid is not it. */
export interface KnownProcess {
  readonly pid: number
  readonly started: string
}

/** The oldest live child of `pid`, or undefined when it has none (yet). */
export const firstChild = (pid: number): KnownProcess | undefined => {
  let children: Array<number>
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8")
      .trim()
      .split(" ")
      .filter((t) => t !== "")
      .map(Number)
  } catch {
    children = [...processes()].filter(([, p]) => p.ppid === pid).map(([c]) => c)
  }
  for (const child of children) {
    const stat = statOf(child)
    if (stat !== undefined && stat.state !== "Z") return { pid: child, started: stat.started }
  }
  return undefined
}

/**
 * Waits up to `withinMs` for `pid` to have a child (a box's PID-namespace init appears a moment after
 * bubblewrap starts). Undefined when none came, or `pid` is gone.
 */
export const awaitFirstChild = async (
  pid: number,
  withinMs: number,
  abort: AbortSignal
): Promise<KnownProcess | undefined> => {
  const deadline = Date.now() + withinMs
  while (!abort.aborted) {
    const child = firstChild(pid)
    if (child !== undefined) return child
    if (Date.now() >= deadline || statOf(pid) === undefined) return undefined
    await new Promise((r) => setTimeout(r, 2))
  }
  return undefined
}

/**
 * Ends a PID namespace through its init and resolves once everything in it is gone. When a namespace's
 * init dies the kernel kills every other process in it, and the init becomes a zombie (or is reaped)
 * only after they all have exited — so "init gone or a zombie" means nothing of the box runs. Bubblewrap
 * itself exits as soon as the boxed command does, while that teardown may still be under way.
 */
export const endNamespace = async (init: KnownProcess, waitMs = 10_000): Promise<void> => {
  const stillIt = () => {
    const stat = statOf(init.pid)
    return stat !== undefined && stat.started === init.started && stat.state !== "Z"
  }
  if (!stillIt()) return
  signal(init.pid, "SIGKILL")
  const deadline = Date.now() + waitMs
  while (stillIt() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5))
}

const signal = (pid: number, sig: NodeJS.Signals | 0): boolean => {
  try {
    process.kill(pid, sig)
    return true
  } catch {
    return false
  }
}

/** True while any of `pids` or the process group `pgid` is alive (zombies do not count). */
export const anyAlive = (pgid: number, pids: ReadonlyArray<number>): boolean => {
  // Nothing to signal means nothing alive: the common case after a normal exit, without reading /proc.
  if (!signal(-pgid, 0) && !pids.some((p) => signal(p, 0))) return false
  const live = processes()
  if (live.size === 0) return true // no /proc: the signals above are all we know
  if (pids.some((p) => live.has(p))) return true
  for (const proc of live.values()) if (proc.pgid === pgid) return true
  return false
}

/**
 * Ends the process tree rooted at `pid` (a group leader): SIGTERM to the group and descendants,
 * up to `graceMs` for them to exit, then SIGKILL. Resolves when nothing is left. Once the leader has
 * exited (and been reaped) its pid may be reused, so then only its process group is signalled.
 */
export const killTree = async (pid: number, graceMs = 2000, leaderExited = false): Promise<void> => {
  const tree = leaderExited ? [] : descendants(pid)
  signal(-pid, "SIGTERM")
  if (!leaderExited) for (const p of [pid, ...tree]) signal(p, "SIGTERM")
  const deadline = Date.now() + graceMs
  const own = leaderExited ? [] : [pid, ...tree]
  while (Date.now() < deadline && anyAlive(pid, own)) await new Promise((r) => setTimeout(r, 25))
  if (anyAlive(pid, own)) {
    const late = leaderExited ? [] : [pid, ...tree, ...descendants(pid)]
    signal(-pid, "SIGKILL")
    for (const p of late) signal(p, "SIGKILL")
    const hard = Date.now() + 2000
    while (Date.now() < hard && anyAlive(pid, late)) await new Promise((r) => setTimeout(r, 25))
  }
}
