/** Process checks for tests that kill agents and verification steps. */
import { readdirSync, readFileSync, readlinkSync } from "node:fs"

/** True while a process with this pid exists and is not a zombie (dead, waiting to be reaped). Linux /proc. */
export const processAlive = (pid: number): boolean => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z"
  } catch {
    return false
  }
}

/** Live (non-zombie) processes whose working directory is `dir`. Linux /proc. */
export const processesIn = (dir: string): Array<string> =>
  readdirSync("/proc")
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return readlinkSync(`/proc/${p}/cwd`) === dir && processAlive(Number(p))
      } catch {
        return false
      }
    })

/** Live (non-zombie) processes whose working directory is `dir` or below it (e.g. any run's worktree under a worktree root). Linux /proc. */
export const processesUnder = (dir: string): Array<string> =>
  readdirSync("/proc")
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        const cwd = readlinkSync(`/proc/${p}/cwd`)
        return (cwd === dir || cwd.startsWith(`${dir}/`)) && processAlive(Number(p))
      } catch {
        return false
      }
    })

/** `pid: command line (state)` for each of `pids`, to say in a failed assertion what was left running. */
export const describeProcesses = (pids: ReadonlyArray<string>): string =>
  pids
    .map((pid) => {
      try {
        const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ").trim().slice(0, 200)
        const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
        const [state, ppid] = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
        return `${pid}: ${cmd} (state ${state}, parent ${ppid})`
      } catch {
        return `${pid}: gone`
      }
    })
    .join("; ")
