/**
 * Plan normalization: moves packets to later waves until every dependency sits in an earlier wave
 * and no two packets of a wave have overlapping footprints; this also derives waves from
 * `depends_on` when a plan puts dependent packets together. Packets only ever move later, never
 * earlier, so the author's order is kept; what moved, and why, is reported.
 */
import { Plan, Wave, type WorkPacket } from "@spec-orch/contract"
import { Schema } from "effect"
import { describeOverlap, packetsOverlap } from "./Footprint.js"

/** One packet that normalization moved from one wave to another. */
export class PacketMove extends Schema.Class<PacketMove>("@spec-orch/task/PacketMove")({
  packetId: Schema.String,
  /** wave_number before. */
  from: Schema.Number,
  /** wave_number after. */
  to: Schema.Number,
  reason: Schema.String
}) {}

/** The normalized plan, what moved, and whether anything changed at all. */
export interface Normalized {
  readonly plan: Plan
  readonly moves: ReadonlyArray<PacketMove>
  readonly changed: boolean
}

/** Description of a wave that exists only because packets were moved into it. */
export const MOVED_WAVE_DESCRIPTION = "Moved from earlier waves: dependencies or overlapping files"

interface Node {
  readonly uid: number
  readonly packet: WorkPacket
  readonly slot: number
  readonly pos: number
  readonly waveIndex: number
  /** How many packets its original wave held. */
  size: number
}

/**
 * The description of the wave in `slot` after moves. An untouched wave keeps its own; a wave that
 * lost or gained packets names what it now holds, so a list of titles (`Implementation: A, B`) is not
 * left naming packets that moved away; a wave holding only moved packets says so.
 */
const waveDescription = (original: string | undefined, members: ReadonlyArray<Node>, slot: number): string => {
  const stayed = members.filter((n) => n.slot === slot)
  const movedIn = members.filter((n) => n.slot !== slot)
  if (original === undefined || stayed.length === 0) return MOVED_WAVE_DESCRIPTION
  if (movedIn.length === 0 && stayed.length === stayed[0]!.size) return original
  const titles = (ns: ReadonlyArray<Node>) =>
    ns.map((n) => (n.packet.title !== "" ? n.packet.title : n.packet.id)).join(", ")
  const colon = original.indexOf(": ")
  const head =
    original === "" ? titles(stayed) : colon > 0 ? `${original.slice(0, colon)}: ${titles(stayed)}` : original
  return movedIn.length > 0 ? `${head}; moved in: ${titles(movedIn)}` : head
}

/**
 * Normalizes a plan (see the module comment). Waves that share a wave_number are merged, waves are
 * ordered by wave_number, and waves left empty are dropped; when nothing needs to change, the
 * same plan object is returned with `changed: false`. Unknown dependencies are ignored and cycles
 * are broken at the packet that comes first in the plan; `validatePlan` reports both.
 */
export const normalizePlan = (plan: Plan): Normalized => {
  const indices = [...new Set(plan.waves.map((w) => w.index))].sort((a, b) => a - b)
  const slotOf = new Map(indices.map((index, slot) => [index, slot]))
  const descriptions = indices.map((index) =>
    [
      ...new Set(
        plan.waves
          .filter((w) => w.index === index)
          .map((w) => w.description)
          .filter((d) => d !== "")
      )
    ].join(" / ")
  )

  const nodes: Array<Node> = []
  const slotSizes = indices.map(() => 0)
  for (const wave of plan.waves) {
    const slot = slotOf.get(wave.index)!
    for (const packet of wave.packets)
      nodes.push({ uid: nodes.length, packet, slot, pos: slotSizes[slot]!++, waveIndex: wave.index, size: 0 })
  }
  for (const n of nodes) n.size = slotSizes[n.slot]!
  const firstById = new Map<string, Node>()
  for (const n of nodes) if (!firstById.has(n.packet.id)) firstById.set(n.packet.id, n)
  const depsOf = nodes.map((n) => [
    ...new Set(
      n.packet.dependsOn
        .filter((d) => d !== n.packet.id)
        .map((d) => firstById.get(d))
        .filter((d): d is Node => d !== undefined)
    )
  ])

  // Kahn's algorithm; among ready packets the one earliest in the plan goes first, so the result is deterministic.
  const placed = new Map<number, number>()
  const members: Array<Array<Node>> = []
  const reasons = new Map<number, string>()
  const before = (a: Node, b: Node) => a.slot - b.slot || a.pos - b.pos
  const remaining = [...nodes].sort(before)
  while (remaining.length > 0) {
    let at = remaining.findIndex((n) => depsOf[n.uid]!.every((d) => placed.has(d.uid)))
    if (at < 0) at = 0 // a cycle: break it at the earliest packet, ignoring its unplaced dependencies
    const node = remaining.splice(at, 1)[0]!
    let slot = node.slot
    let reason: string | undefined
    for (const d of depsOf[node.uid]!) {
      const ds = placed.get(d.uid)
      if (ds !== undefined && ds + 1 > slot) {
        slot = ds + 1
        reason = `depends on "${d.packet.id}"`
      }
    }
    // Every packet it had to pass is named, not only the last one.
    const clashes: Array<string> = []
    for (;;) {
      const clash = (members[slot] ?? []).find((m) => packetsOverlap(m.packet, node.packet) !== undefined)
      if (clash === undefined) break
      clashes.push(
        `"${clash.packet.id}" (${describeOverlap(clash.packet, node.packet, packetsOverlap(clash.packet, node.packet)!)})`
      )
      reason = `may change the same files as ${clashes.join(" and as ")}`
      slot++
    }
    placed.set(node.uid, slot)
    members[slot] = [...(members[slot] ?? []), node]
    if (slot !== node.slot && reason !== undefined) reasons.set(node.uid, reason)
  }

  const merged = indices.length !== plan.waves.length
  const ordered = plan.waves.every((w, i) => i === 0 || w.index > plan.waves[i - 1]!.index)
  const moved = nodes.some((n) => placed.get(n.uid) !== n.slot)
  const empty = plan.waves.some((w) => w.packets.length === 0)
  if (!merged && ordered && !moved && !empty) return { plan, moves: [], changed: false }

  const base = indices[0] ?? 0
  const waves: Array<Wave> = []
  const newIndexOfSlot = new Map<number, number>()
  members.forEach((m, slot) => {
    if (m === undefined || m.length === 0) return
    const index = base + waves.length
    newIndexOfSlot.set(slot, index)
    // Within a wave, packets keep plan order: those that were there first, then those moved in.
    const sorted = [...m].sort(before)
    const packets = sorted.map((n) => n.packet)
    waves.push(
      new Wave({
        index,
        description: waveDescription(slot < indices.length ? descriptions[slot]! : undefined, sorted, slot),
        packets
      })
    )
  })
  const moves = nodes
    .filter((n) => placed.get(n.uid) !== n.slot)
    .map(
      (n) =>
        new PacketMove({
          packetId: n.packet.id,
          from: n.waveIndex,
          to: newIndexOfSlot.get(placed.get(n.uid)!)!,
          reason: reasons.get(n.uid) ?? "moved with its dependencies"
        })
    )
  return { plan: new Plan({ ...plan, waves }), moves, changed: true }
}
