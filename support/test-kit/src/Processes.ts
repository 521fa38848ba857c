/** Process checks for tests that kill agents and verification steps. */
import { readFileSync } from "node:fs"

/** True while a process with this pid exists and is not a zombie (dead, waiting to be reaped). Linux /proc. */
export const processAlive = (pid: number): boolean => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z"
  } catch {
    return false
  }
}
