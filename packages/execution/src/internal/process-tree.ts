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
