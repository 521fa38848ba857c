/**
 * Wave scheduling for whoever runs a plan (control): given what has finished, failed and is
 * running, which packets may start now, which wait, and which are blocked and why. Pure: the
 * caller owns the state; calling again after every change gives the next step.
 *
 * Rules: waves run in wave_number order, and a wave starts only when every earlier wave is
 * settled (each packet finished, failed or blocked). Inside the current wave a packet starts when
 * its dependencies have finished and its footprint overlaps no running packet. A failed packet
 * blocks its dependants, transitively, in every later wave. With `stopDependantsOnly: false` the
 * first failure halts the mission instead: nothing new starts (the original's behaviour).
 */
import type { Plan, WorkPacket } from "@spec-orch/contract"
import { describeOverlap, packetsOverlap } from "./Footprint.js"

/** What the caller knows about the packets' runs. Ids not in the plan are ignored. */
export interface ScheduleState {
  readonly finished: Iterable<string>
  readonly failed: Iterable<string>
  /** Packets started and not yet finished or failed. */
  readonly running?: Iterable<string> | undefined
  /** `true`: a failure stops only its dependants. `false`: the first failure stops the mission. */
  readonly stopDependantsOnly: boolean
}

/** A packet that will not run in this mission run, and why. */
export interface BlockedPacket {
  readonly packetId: string
  /** Failed packets this one (transitively) depends on; empty when blocked for another reason. */
  readonly failedDependencies: ReadonlyArray<string>
  /** Why: a failed dependency, the halted mission, or a plan that was not normalized (see `validatePlan`). */
  readonly reason:
    | "dependency-failed"
    | "mission-halted"
    | "unknown-dependency"
    | "dependency-cycle"
    | "dependency-in-later-wave"
  readonly message: string
}

/** A packet of the current wave that cannot start yet. */
export interface WaitingPacket {
  readonly packetId: string
  readonly message: string
}

/** One wave in run order, with how far it got. */
export interface WaveState {
  readonly index: number
  readonly description: string
  readonly packetIds: ReadonlyArray<string>
  /** `settled`: nothing left to run in it; `current`: running now; `pending`: waits for earlier waves. */
  readonly state: "settled" | "current" | "pending"
}

/** The answer of `scheduleWaves`. */
export interface WaveSchedule {
  /** Waves in the order they run. */
  readonly waves: ReadonlyArray<WaveState>
  /** wave_number of the wave being worked on; `undefined` when every wave is settled. */
  readonly currentWave: number | undefined
  /** Packets that may start now, in plan order (the caller applies its concurrency limit). */
  readonly runnable: ReadonlyArray<WorkPacket>
  readonly running: ReadonlyArray<string>
  readonly waiting: ReadonlyArray<WaitingPacket>
  readonly blocked: ReadonlyArray<BlockedPacket>
  readonly finished: ReadonlyArray<string>
  readonly failed: ReadonlyArray<string>
  /** A failure stopped the mission (`stopDependantsOnly: false`); running packets may be cancelled. */
  readonly halted: boolean
  /** Nothing is running and nothing can start: the mission run is over. */
  readonly done: boolean
  /** Every packet finished. */
  readonly complete: boolean
}

/** Decides what runs next (see the module comment). */
export const scheduleWaves = (plan: Plan, state: ScheduleState): WaveSchedule => {
  const waves = plan.waves
    .map((w, pos) => ({ w, pos }))
    .sort((a, b) => a.w.index - b.w.index || a.pos - b.pos)
    .map((x) => x.w)
  const packets = new Map<string, { packet: WorkPacket; wave: number }>()
  waves.forEach((w, wave) => {
    for (const packet of w.packets) if (!packets.has(packet.id)) packets.set(packet.id, { packet, wave })
  })
  const finished = new Set([...state.finished].filter((id) => packets.has(id)))
  const failed = new Set([...state.failed].filter((id) => packets.has(id) && !finished.has(id)))
  const running = new Set(
    [...(state.running ?? [])].filter((id) => packets.has(id) && !finished.has(id) && !failed.has(id))
  )
  const halted = !state.stopDependantsOnly && failed.size > 0

  // Why each packet cannot run, computed once per packet (memoized DFS over dependencies).
  const blockedBy = new Map<string, BlockedPacket | null>()
  const visiting = new Set<string>()
  const blockOf = (id: string): BlockedPacket | null => {
    const known = blockedBy.get(id)
    if (known !== undefined) return known
    if (finished.has(id) || failed.has(id) || running.has(id)) return null
    if (visiting.has(id))
      return {
        packetId: id,
        failedDependencies: [],
        reason: "dependency-cycle",
        message: `"${id}" is part of a dependency cycle`
      }
    visiting.add(id)
    const { packet, wave } = packets.get(id)!
    const roots = new Set<string>()
    let other: BlockedPacket | undefined
    for (const d of packet.dependsOn) {
      if (d === id) continue
      if (!packets.has(d)) {
        other ??= {
          packetId: id,
          failedDependencies: [],
          reason: "unknown-dependency",
          message: `depends on "${d}", which is not in the plan`
        }
        continue
      }
      if (packets.get(d)!.wave > wave) {
        other ??= {
          packetId: id,
          failedDependencies: [],
          reason: "dependency-in-later-wave",
          message: `depends on "${d}", which is in a later wave (the plan is not normalized; run \`spec-orch plan\`)`
        }
        continue
      }
      if (failed.has(d)) roots.add(d)
      const b = blockOf(d)
      if (b === null || b.reason === "mission-halted") continue
      if (b.failedDependencies.length > 0) for (const r of b.failedDependencies) roots.add(r)
      else
        other ??= {
          ...b,
          packetId: id,
          message:
            b.reason === "dependency-cycle"
              ? `depends on "${d}", which is part of a dependency cycle`
              : `depends on "${d}", which cannot run (${b.message})`
        }
    }
    visiting.delete(id)
    let result: BlockedPacket | null = null
    if (roots.size > 0) {
      const list = [...roots]
      result = {
        packetId: id,
        failedDependencies: list,
        reason: "dependency-failed",
        message: `${list.length === 1 ? "dependency" : "dependencies"} ${list.map((r) => `"${r}"`).join(", ")} failed`
      }
    } else if (other !== undefined) result = other
    else if (halted) {
      const list = [...failed]
      result = {
        packetId: id,
        failedDependencies: [],
        reason: "mission-halted",
        message: `the mission stopped after ${list.map((r) => `"${r}"`).join(", ")} failed`
      }
    }
    blockedBy.set(id, result)
    return result
  }

  const blocked: Array<BlockedPacket> = []
  for (const w of waves) {
    for (const p of w.packets) {
      if (packets.get(p.id)!.packet !== p) continue
      const b = blockOf(p.id)
      if (b !== null) blocked.push(b)
    }
  }
  const isBlocked = new Set(blocked.map((b) => b.packetId))
  const settledPacket = (id: string) => finished.has(id) || failed.has(id) || isBlocked.has(id)

  const currentPos = waves.findIndex((w) => w.packets.some((p) => !settledPacket(p.id)))
  const runnable: Array<WorkPacket> = []
  const waiting: Array<WaitingPacket> = []
  if (currentPos >= 0 && !halted) {
    const active = [...running].map((id) => packets.get(id)!.packet)
    for (const p of waves[currentPos]!.packets) {
      if (settledPacket(p.id) || running.has(p.id) || packets.get(p.id)!.packet !== p) continue
      const pending = p.dependsOn.filter((d) => d !== p.id && !finished.has(d))
      if (pending.length > 0) {
        waiting.push({ packetId: p.id, message: `waits for ${pending.map((d) => `"${d}"`).join(", ")}` })
        continue
      }
      const clash = active.find((a) => packetsOverlap(a, p) !== undefined)
      if (clash !== undefined) {
        waiting.push({
          packetId: p.id,
          message: `waits for "${clash.id}" to finish: ${describeOverlap(clash, p, packetsOverlap(clash, p)!)}`
        })
        continue
      }
      runnable.push(p)
      active.push(p)
    }
  }

  const waveStates: Array<WaveState> = waves.map((w, pos) => ({
    index: w.index,
    description: w.description,
    packetIds: w.packets.map((p) => p.id),
    state: pos === currentPos ? "current" : currentPos < 0 || pos < currentPos ? "settled" : "pending"
  }))
  const complete = [...packets.keys()].every((id) => finished.has(id))
  return {
    waves: waveStates,
    currentWave: currentPos >= 0 ? waves[currentPos]!.index : undefined,
    runnable,
    running: [...running],
    waiting,
    blocked,
    finished: [...finished],
    failed: [...failed],
    halted,
    done: runnable.length === 0 && running.size === 0,
    complete
  }
}
