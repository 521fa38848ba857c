/**
 * Plan validation: the rules a plan must keep before any packet runs. Problems are data, each with
 * the `plan.json` key it concerns so a loader can name the line. `validatePlan` never throws and
 * never changes the plan; `normalizePlan` fixes what can be fixed by moving packets.
 */
import { didYouMean, type Plan, type WorkPacket } from "@spec-orch/contract"
import { Schema } from "effect"
import { describeOverlap, entriesOverlap, packetsOverlap } from "./Footprint.js"
import { normalizeText, sharedCount, significantWords } from "./internal/text.js"

/** What a problem is about. */
export const PlanProblemCode = Schema.Literals([
  "empty-plan",
  "wave-order",
  "duplicate-packet",
  "self-dependency",
  "unknown-dependency",
  "dependency-not-earlier",
  "dependency-cycle",
  "footprint-overlap",
  "path-outside-repository",
  "uncovered-criterion"
])
export type PlanProblemCode = typeof PlanProblemCode.Type

/** One thing wrong with a plan. `key` is its place in `plan.json` (`waves.1.work_packets.0.depends_on.2`). */
export class PlanProblem extends Schema.Class<PlanProblem>("@spec-orch/task/PlanProblem")({
  code: PlanProblemCode,
  severity: Schema.Literals(["error", "warning"]),
  message: Schema.String,
  hint: Schema.optionalKey(Schema.String),
  /** Dotted key path in `plan.json`; empty for the whole plan. */
  key: Schema.String,
  /** The packets concerned, in plan order. */
  packetIds: Schema.Array(Schema.String)
}) {}

/** Codes that `normalizePlan` fixes by moving packets to later waves. */
export const FIXED_BY_NORMALIZE: ReadonlyArray<PlanProblemCode> = [
  "dependency-not-earlier",
  "footprint-overlap",
  "wave-order"
]

/** A packet with where it sits in the plan file. */
export interface Located {
  readonly packet: WorkPacket
  readonly waveIndex: number
  /** Position of the wave in `plan.waves`. */
  readonly wavePos: number
  /** Position of the packet in its wave. */
  readonly pos: number
  readonly key: string
}

/** Every packet of a plan, in file order, with its key path. */
export const locatePackets = (plan: Plan): Array<Located> =>
  plan.waves.flatMap((w, wavePos) =>
    w.packets.map((packet, pos) => ({
      packet,
      waveIndex: w.index,
      wavePos,
      pos,
      key: `waves.${wavePos}.work_packets.${pos}`
    }))
  )

/**
 * Whether a mission criterion is covered by a packet's criteria: the same text (ignoring case and
 * punctuation), one containing the other, a reference to its id (`AC-2`), or most of its
 * significant words in one packet criterion.
 */
export const criterionCovered = (criterion: string, index: number, packetCriteria: ReadonlyArray<string>): boolean =>
  coveredBy(criterion, index, indexCriteria(packetCriteria))

const coveredBy = (criterion: string, index: number, candidates: CriteriaIndex): boolean => {
  const c = normalizeText(criterion)
  if (c === "") return true
  const words = significantWords(criterion)
  const needed = Math.max(2, Math.ceil(words.size * 0.7))
  const idRef = new RegExp(`\\bac-?${index + 1}\\b`, "i")
  return candidates.some(({ text, normalized: p, words: pw }) => {
    if (p === c || (p.length >= 8 && c.includes(p)) || (c.length >= 8 && p.includes(c)) || idRef.test(text)) return true
    return words.size >= 2 && sharedCount(words, pw) >= needed
  })
}

/** Packet criteria prepared once for many `criterionCovered` calls. */
export type CriteriaIndex = ReadonlyArray<{
  readonly text: string
  readonly normalized: string
  readonly words: ReadonlySet<string>
}>

/** Prepares packet criteria for `criterionCovered`. */
export const indexCriteria = (texts: ReadonlyArray<string>): CriteriaIndex =>
  texts.map((text) => ({ text, normalized: normalizeText(text), words: significantWords(text) }))

/** Finds one cycle through `start` inside the strongly connected component `scc`. */
const cycleThrough = (
  start: string,
  scc: ReadonlySet<string>,
  deps: ReadonlyMap<string, ReadonlyArray<string>>
): Array<string> => {
  const path: Array<string> = [start]
  const onPath = new Set([start])
  const seen = new Set<string>()
  const walk = (node: string): boolean => {
    for (const next of deps.get(node) ?? []) {
      if (!scc.has(next)) continue
      if (next === start) return true
      if (onPath.has(next) || seen.has(next)) continue
      seen.add(next)
      path.push(next)
      onPath.add(next)
      if (walk(next)) return true
      path.pop()
      onPath.delete(next)
    }
    return false
  }
  walk(start)
  return [...path, start]
}

/** Strongly connected components with more than one packet (Tarjan), in plan order. */
export const dependencyCycles = (
  order: ReadonlyArray<string>,
  deps: ReadonlyMap<string, ReadonlyArray<string>>
): Array<Array<string>> => {
  let counter = 0
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: Array<string> = []
  const onStack = new Set<string>()
  const out: Array<Set<string>> = []
  const strong = (v: string): void => {
    index.set(v, counter)
    low.set(v, counter++)
    stack.push(v)
    onStack.add(v)
    for (const w of deps.get(v) ?? []) {
      if (!deps.has(w)) continue
      if (!index.has(w)) {
        strong(w)
        low.set(v, Math.min(low.get(v)!, low.get(w)!))
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!))
    }
    if (low.get(v) === index.get(v)) {
      const scc = new Set<string>()
      for (;;) {
        const w = stack.pop()!
        onStack.delete(w)
        scc.add(w)
        if (w === v) break
      }
      if (scc.size > 1) out.push(scc)
    }
  }
  for (const v of order) if (!index.has(v)) strong(v)
  return out.map((scc) => {
    const first = order.find((id) => scc.has(id))!
    return cycleThrough(first, scc, deps)
  })
}

/**
 * Why a `files_in_scope` entry names something outside the repository, or `undefined` when it stays
 * inside: an absolute path (`/etc/passwd`, `C:\\x`, `~/x`), or one whose `..` climbs above the root.
 */
export const outsideRepository = (entry: string): string | undefined => {
  const e = entry.trim().replaceAll("\\", "/")
  if (e.startsWith("/")) return "it is an absolute path"
  if (/^[A-Za-z]:/.test(e)) return "it is an absolute Windows path"
  if (e === "~" || e.startsWith("~/")) return "it is in a home directory"
  let depth = 0
  for (const segment of e.split("/")) {
    if (segment === "" || segment === ".") continue
    depth += segment === ".." ? -1 : 1
    if (depth < 0) return 'its ".." leads above the repository root'
  }
  return undefined
}

/** Options for `validatePlan`. */
export interface ValidateOptions {
  /** The mission's acceptance criteria; each must be covered by some packet. */
  readonly acceptanceCriteria?: ReadonlyArray<string> | undefined
}

/**
 * Checks a plan: unique packet ids; dependencies that exist (with a "did you mean"), are not the
 * packet itself, sit in earlier waves and form no cycle (the cycle is named); no two packets of one
 * wave with overlapping footprints (see Footprint.ts); every mission criterion covered.
 */
export const validatePlan = (plan: Plan, options: ValidateOptions = {}): ReadonlyArray<PlanProblem> => {
  const problems: Array<PlanProblem> = []
  const add = ({
    hint,
    severity = "error",
    ...rest
  }: {
    code: PlanProblemCode
    severity?: "error" | "warning"
    message: string
    hint?: string
    key: string
    packetIds: ReadonlyArray<string>
  }) => problems.push(new PlanProblem({ ...rest, severity, ...(hint !== undefined ? { hint } : {}) }))
  const located = locatePackets(plan)

  if (located.length === 0) {
    add({
      code: "empty-plan",
      severity: "warning",
      message: "the plan has no work packets",
      key: "waves",
      packetIds: []
    })
  }

  for (let i = 1; i < plan.waves.length; i++) {
    const prev = plan.waves[i - 1]!
    const wave = plan.waves[i]!
    if (wave.index <= prev.index) {
      add({
        code: "wave-order",
        severity: "warning",
        message:
          wave.index === prev.index
            ? `wave_number ${wave.index} appears twice; both waves run as one`
            : `wave_number ${wave.index} comes after wave_number ${prev.index}; waves run in wave_number order`,
        hint: "number the waves 0, 1, 2, … in file order",
        key: `waves.${i}.wave_number`,
        packetIds: []
      })
    }
  }

  const byId = new Map<string, Located>()
  for (const l of located) {
    const first = byId.get(l.packet.id)
    if (first !== undefined) {
      add({
        code: "duplicate-packet",
        message: `packet id "${l.packet.id}" is used twice (also at ${first.key})`,
        hint: "give each packet its own id",
        key: `${l.key}.packet_id`,
        packetIds: [l.packet.id]
      })
    } else byId.set(l.packet.id, l)
  }
  for (const l of located) {
    l.packet.filesInScope.forEach((entry, k) => {
      const why = outsideRepository(entry)
      if (why === undefined) return
      add({
        code: "path-outside-repository",
        message: `packet "${l.packet.id}" lists "${entry}" in files_in_scope, which is outside the repository: ${why}`,
        hint: "files_in_scope names paths relative to the repository root, e.g. src/app.ts or src/api/",
        key: `${l.key}.files_in_scope.${k}`,
        packetIds: [l.packet.id]
      })
    })
  }

  const ids = [...byId.keys()]

  const deps = new Map<string, Array<string>>()
  for (const l of located) {
    if (deps.has(l.packet.id)) continue
    deps.set(
      l.packet.id,
      l.packet.dependsOn.filter((d) => d !== l.packet.id && byId.has(d))
    )
    l.packet.dependsOn.forEach((d, k) => {
      const key = `${l.key}.depends_on.${k}`
      if (d === l.packet.id) {
        add({
          code: "self-dependency",
          message: `packet "${d}" depends on itself`,
          hint: "remove it from its own depends_on",
          key,
          packetIds: [d]
        })
        return
      }
      const dep = byId.get(d)
      if (dep === undefined) {
        const suggestion = didYouMean(d, ids)
        add({
          code: "unknown-dependency",
          message: `packet "${l.packet.id}" depends on "${d}", which no packet of this plan has as its id`,
          hint: suggestion !== undefined ? `did you mean "${suggestion}"?` : `packet ids: ${ids.join(", ")}`,
          key,
          packetIds: [l.packet.id]
        })
      } else if (dep.waveIndex >= l.waveIndex) {
        add({
          code: "dependency-not-earlier",
          message: `packet "${l.packet.id}" (wave ${l.waveIndex}) depends on "${d}", which is in ${dep.waveIndex === l.waveIndex ? "the same wave" : `the later wave ${dep.waveIndex}`}`,
          hint: `a dependency must be in an earlier wave; \`spec-orch plan\` moves "${l.packet.id}" after it`,
          key,
          packetIds: [l.packet.id, d]
        })
      }
    })
  }

  for (const cycle of dependencyCycles(ids, deps)) {
    const head = byId.get(cycle[0]!)!
    add({
      code: "dependency-cycle",
      message: `dependency cycle: ${cycle.join(" → ")}`,
      hint: 'each arrow reads "depends on"; remove one of these dependencies',
      key: `${head.key}.depends_on`,
      packetIds: cycle.slice(0, -1)
    })
  }

  const waves = new Map<number, Array<Located>>()
  for (const l of byId.values()) waves.set(l.waveIndex, [...(waves.get(l.waveIndex) ?? []), l])
  for (const [index, members] of waves) {
    const unbounded = new Set<string>()
    for (const l of members) {
      if (l.packet.filesInScope.length > 0 || members.length < 2) continue
      unbounded.add(l.packet.id)
      add({
        code: "footprint-overlap",
        message: `packet "${l.packet.id}" has no files_in_scope, so it may change any file; it cannot share wave ${index} with ${members
          .filter((m) => m !== l)
          .map((m) => `"${m.packet.id}"`)
          .join(", ")}`,
        hint: "list the files it may change in files_in_scope, or move it to a wave of its own",
        key: `${l.key}.files_in_scope`,
        packetIds: [l.packet.id]
      })
    }
    for (let i = 0; i < members.length; i++) {
      for (let j = i + 1; j < members.length; j++) {
        const a = members[i]!
        const b = members[j]!
        if (unbounded.has(a.packet.id) || unbounded.has(b.packet.id)) continue
        const pair = packetsOverlap(a.packet, b.packet)
        if (pair === undefined) continue
        add({
          code: "footprint-overlap",
          message: `packets "${a.packet.id}" and "${b.packet.id}" in wave ${index} may change the same files: ${describeOverlaps(a.packet, b.packet, pair)}`,
          hint: `move one of them to a later wave (\`spec-orch plan\` does), or make their files_in_scope disjoint`,
          key: `${b.key}.files_in_scope`,
          packetIds: [a.packet.id, b.packet.id]
        })
      }
    }
  }

  const criteria = options.acceptanceCriteria ?? []
  const packetCriteria = indexCriteria(located.flatMap((l) => l.packet.acceptanceCriteria))
  criteria.forEach((criterion, i) => {
    if (coveredBy(criterion, i, packetCriteria)) return
    add({
      code: "uncovered-criterion",
      message: `acceptance criterion AC-${i + 1} "${criterion}" is not covered by any packet`,
      hint: "add it to the acceptance_criteria of the packet that delivers it",
      key: "",
      packetIds: []
    })
  })
  return problems
}

/** Every pair of entries through which two packets' footprints overlap, each described (`both name "x"; "src/" overlaps "src/a.ts"`). */
const describeOverlaps = (a: WorkPacket, b: WorkPacket, first: readonly [string, string]): string => {
  if (a.filesInScope.length === 0 || b.filesInScope.length === 0) return describeOverlap(a, b, first)
  const pairs = a.filesInScope.flatMap((x) =>
    b.filesInScope.filter((y) => entriesOverlap(x, y)).map((y) => [x, y] as const)
  )
  return pairs.map((pair) => describeOverlap(a, b, pair)).join("; ")
}

/** Whether any problem is an error. */
export const hasErrors = (problems: ReadonlyArray<PlanProblem>): boolean => problems.some((p) => p.severity === "error")
