/**
 * Re-planning that keeps finished work: a fresh plan replaces the current one, except that packets
 * already finished keep exactly what they were (they ran; their branches exist). Pure.
 */
import { Plan, Wave, WorkPacket } from "@spec-orch/contract"
import { normalizePlan, type PacketMove } from "./PlanNormalization.js"

/** Description of the wave that holds finished packets the fresh plan no longer has. */
export const KEPT_WAVE_DESCRIPTION = "Finished in the previous plan (kept)"

/** What re-planning did. */
export interface Replanned {
  readonly plan: Plan
  /** Finished packets kept as they were (all of them, wherever they ended up). */
  readonly kept: ReadonlyArray<string>
  /** Packets of the current plan, not finished, that the fresh plan drops. */
  readonly removed: ReadonlyArray<string>
  /** Packets of the fresh plan that the current plan did not have. */
  readonly added: ReadonlyArray<string>
  /** Ids said to be finished that the current plan does not have (ignored). */
  readonly unknownFinished: ReadonlyArray<string>
  readonly moves: ReadonlyArray<PacketMove>
}

/**
 * Merges `fresh` into `current`, keeping finished packets. A fresh packet with the id of a finished
 * one is replaced by the finished one, in the fresh plan's place; finished packets the fresh plan
 * does not mention go to a first wave of their own; their dependencies on packets the new plan
 * dropped are removed. The result is normalized. The current plan's
 * status (e.g. `executing`) carries over.
 */
export const replanKeepingFinished = (current: Plan, fresh: Plan, finished: Iterable<string>): Replanned => {
  const currentPackets = new Map<string, WorkPacket>()
  for (const w of current.waves) for (const p of w.packets) if (!currentPackets.has(p.id)) currentPackets.set(p.id, p)
  const done = new Set<string>()
  const unknownFinished: Array<string> = []
  for (const id of finished) {
    if (currentPackets.has(id)) done.add(id)
    else if (!unknownFinished.includes(id)) unknownFinished.push(id)
  }
  const freshIds = new Set<string>(fresh.waves.flatMap((w) => w.packets.map((p) => p.id)))
  const orphans = [...currentPackets.values()].filter((p) => done.has(p.id) && !freshIds.has(p.id))

  // A kept packet ran already: dependencies the new plan no longer has are history, not blockers.
  const present = new Set<string>([...freshIds, ...done])
  const keep = (p: WorkPacket): WorkPacket => {
    const kept = currentPackets.get(p.id)!
    const deps = kept.dependsOn.filter((d) => present.has(d))
    return deps.length === kept.dependsOn.length ? kept : new WorkPacket({ ...kept, dependsOn: deps })
  }
  const shift = orphans.length > 0 ? 1 : 0
  const base = Math.min(...fresh.waves.map((w) => w.index), ...(fresh.waves.length === 0 ? [0] : []))
  const waves = [
    ...(orphans.length > 0
      ? [new Wave({ index: base, description: KEPT_WAVE_DESCRIPTION, packets: orphans.map(keep) })]
      : []),
    ...fresh.waves.map(
      (w) => new Wave({ ...w, index: w.index + shift, packets: w.packets.map((p) => (done.has(p.id) ? keep(p) : p)) })
    )
  ]
  // An approval was of the old content: a re-planned plan keeps the fresh plan's status (a draft) instead.
  const merged = new Plan({
    ...fresh,
    ...(current.status !== undefined && current.status !== "approved" ? { status: current.status } : {}),
    waves
  })
  const { plan, moves } = normalizePlan(merged)
  return {
    plan,
    kept: [...done],
    removed: [...currentPackets.keys()].filter((id) => !done.has(id) && !freshIds.has(id)),
    added: [...freshIds].filter((id) => !currentPackets.has(id)),
    unknownFinished,
    moves
  }
}
