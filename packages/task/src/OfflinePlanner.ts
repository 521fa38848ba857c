/**
 * The offline planner: a plan from a mission spec with no model, deterministic (the same spec and
 * config give the same plan, except `created_at`).
 *
 * How it decides:
 * - one packet per spec section with work content: every `##` section that is not a description of
 *   the mission (Intent, Goal, Background, Acceptance Criteria, Constraints, Non-Goals, …); a
 *   section with `###` subsections gives one packet per subsection;
 * - `## Interface Contracts` with content becomes a first "contract freeze" packet that every
 *   other packet depends on;
 * - a spec with no work sections (the skeleton: Intent, Acceptance Criteria, Constraints) gives one
 *   packet per acceptance criterion instead (`ac-1`, `ac-2`, …);
 * - footprints are the paths the section mentions in backticks (`src/api/`, `src/**\/*.ts`); paths in
 *   a constraint that says "do not"/"never" are out of scope for every packet;
 * - dependencies follow spec order: a packet depends on an earlier packet when their footprints
 *   overlap (a packet that mentions no files may touch any file, so it follows everything before
 *   it); redundant transitive edges are dropped; waves are the dependency levels;
 * - each acceptance criterion goes to the packet whose section shares the most words or paths with
 *   it; criteria no section claims go to a final "Integration / QA" packet that depends on the rest;
 * - verification is the project's `[verification]` steps; the builder prompt quotes the section.
 */
import {
  makePacketId,
  type MissionId,
  Plan,
  type RunClass,
  sha256,
  slugify,
  type VerificationStep,
  Wave,
  WorkPacket
} from "@spec-orch/contract"
import { packetsOverlap } from "./Footprint.js"
import { sharedCount, significantWords } from "./internal/text.js"
import { hasContent, mentionedPaths, NON_WORK_SECTIONS, parseMissionSpec } from "./MissionSpec.js"

/** What the offline planner needs. */
export interface OfflinePlanInput {
  readonly missionId: MissionId
  readonly specText: string
  /** Repository-relative path of spec.md, quoted in builder prompts. */
  readonly specPath: string
  /** The mission's acceptance criteria (mission.json); when empty, those of spec.md are used. */
  readonly acceptanceCriteria?: ReadonlyArray<string> | undefined
  /** The mission's constraints (mission.json); added to those of spec.md. */
  readonly constraints?: ReadonlyArray<string> | undefined
  /** Verification steps every packet runs: the project's `[verification]`. */
  readonly verification: ReadonlyArray<VerificationStep>
  readonly createdAt: string
}

interface Unit {
  readonly kind: "contracts" | "work" | "criterion" | "qa" | "mission"
  readonly title: string
  readonly specSection: string
  readonly body: string
  readonly files: ReadonlyArray<string>
  criteria: Array<string>
}

const runClassOf = (title: string): RunClass => {
  const t = title.toLowerCase()
  if (/\b(tests?|testing|qa|e2e|verification)\b/.test(t)) return "qa"
  if (/\b(docs?|documentation|readme|guide)\b/.test(t)) return "docs"
  if (/\brefactor/.test(t)) return "refactor"
  if (/\b(bugs?|fix|fixes|regression)\b/.test(t)) return "bug"
  if (/\b(spike|research|investigat\w*|prototype)\b/.test(t)) return "spike"
  return "feature"
}

const clip = (text: string, n: number) => (text.length <= n ? text : `${text.slice(0, n - 1).trimEnd()}…`)

const NEGATION =
  /\b(do not|don't|never|must not|mustn't|no changes? to|not touch|leave .* (alone|untouched)|out of scope)\b/i

/** Builds the plan (see the module comment). */
export const planOffline = (input: OfflinePlanInput): Plan => {
  const spec = parseMissionSpec(input.specText)
  const title = spec.title || input.missionId
  const criteria =
    (input.acceptanceCriteria ?? []).length > 0 ? [...input.acceptanceCriteria!] : [...spec.acceptanceCriteria]
  const constraints = [...new Set([...(input.constraints ?? []), ...spec.constraints])]
  const outOfScope = [...new Set(constraints.filter((c) => NEGATION.test(c)).flatMap(mentionedPaths))]

  const units: Array<Unit> = []
  if (spec.interfaceContracts !== "") {
    units.push({
      kind: "contracts",
      title: "Freeze the interface contracts",
      specSection: "Interface Contracts",
      body: spec.interfaceContracts,
      files: mentionedPaths(spec.interfaceContracts),
      criteria: []
    })
  }
  for (const section of spec.sections) {
    if (NON_WORK_SECTIONS.has(section.heading.toLowerCase()) || !hasContent(section.body)) continue
    const subs = section.subsections.filter((s) => hasContent(s.body))
    if (subs.length === 0) {
      units.push({
        kind: "work",
        title: section.heading,
        specSection: section.heading,
        body: section.body,
        files: mentionedPaths(section.body),
        criteria: []
      })
      continue
    }
    const intro = section.body.split(/\n(?=#{3}\s)/)[0]!.trim()
    const sharedIntro = intro.startsWith("###") ? "" : intro
    for (const sub of subs) {
      const body = [sharedIntro, sub.body].filter((t) => t !== "").join("\n\n")
      units.push({
        kind: "work",
        title: sub.heading,
        specSection: `${section.heading} / ${sub.heading}`,
        body,
        files: mentionedPaths(body),
        criteria: []
      })
    }
  }

  const unclaimed: Array<string> = []
  if (!units.some((u) => u.kind === "work")) {
    for (const c of criteria)
      units.push({
        kind: "criterion",
        title: clip(c, 72),
        specSection: "Acceptance Criteria",
        body: c,
        files: mentionedPaths(c),
        criteria: [c]
      })
    if (units.length === 0) {
      const body = spec.intent || input.specText.trim()
      units.push({
        kind: "mission",
        title,
        specSection: "Intent",
        body,
        files: mentionedPaths(input.specText),
        criteria: []
      })
    }
  } else {
    for (const c of criteria) {
      const words = significantWords(c)
      const paths = mentionedPaths(c)
      let best: Unit | undefined
      let bestScore = 1
      for (const u of units) {
        const score =
          sharedCount(words, significantWords(`${u.title}\n${u.body}`)) +
          3 * paths.filter((p) => u.files.includes(p)).length
        if (score > bestScore) {
          best = u
          bestScore = score
        }
      }
      if (best !== undefined) best.criteria.push(c)
      else unclaimed.push(c)
    }
  }
  if (unclaimed.length > 0) {
    units.push({
      kind: "qa",
      title: "Verify the remaining acceptance criteria",
      specSection: "Acceptance Criteria",
      body: unclaimed.map((c) => `- ${c}`).join("\n"),
      files: unclaimed.flatMap(mentionedPaths),
      criteria: unclaimed
    })
  }

  const ids: Array<string> = []
  for (const u of units) {
    const base =
      u.kind === "contracts"
        ? "interface-contracts"
        : u.kind === "qa"
          ? "acceptance-qa"
          : u.kind === "criterion"
            ? `ac-${criteria.indexOf(u.body) + 1}`
            : slugify(u.title, 40) || "packet"
    let id = base
    for (let n = 2; ids.includes(id); n++) id = `${base}-${n}`
    ids.push(id)
  }

  // Dependencies: contracts first; later packets after earlier ones they overlap; QA after everything.
  const deps = units.map(() => new Set<number>())
  units.forEach((u, j) => {
    if (u.kind === "contracts") return
    for (let i = 0; i < j; i++) {
      const v = units[i]!
      if (
        v.kind === "contracts" ||
        u.kind === "qa" ||
        packetsOverlap({ filesInScope: u.files }, { filesInScope: v.files }) !== undefined
      )
        deps[j]!.add(i)
    }
  })
  const reaches = (from: number, to: number, seen = new Set<number>()): boolean => {
    for (const d of deps[from]!) {
      if (d === to) return true
      if (!seen.has(d)) {
        seen.add(d)
        if (reaches(d, to, seen)) return true
      }
    }
    return false
  }
  const direct = deps.map((ds) =>
    [...ds].filter((i) => ![...ds].some((k) => k !== i && reaches(k, i))).sort((a, b) => a - b)
  )

  const level: Array<number> = []
  units.forEach((_, j) => {
    level.push(Math.max(-1, ...direct[j]!.map((i) => level[i]!)) + 1)
  })

  const contracts = spec.interfaceContracts
  const packets = units.map((u, j) => {
    const own =
      u.criteria.length > 0 ? u.criteria : [`The "${u.specSection}" part of the spec is implemented as written`]
    const prompt = [
      `Mission "${title}" (${input.missionId}): ${u.title}.`,
      "",
      ...(spec.intent !== "" ? ["Mission intent:", spec.intent, ""] : []),
      u.kind === "qa"
        ? `Check that the whole mission meets the acceptance criteria below; fix what does not. The spec is ${input.specPath}.`
        : `Implement the "${u.specSection}" part of the mission spec (${input.specPath}). The spec says:`,
      "",
      u.body,
      "",
      "Acceptance criteria for this packet:",
      ...own.map((c) => `- ${c}`),
      ...(constraints.length > 0 ? ["", "Constraints (whole mission):", ...constraints.map((c) => `- ${c}`)] : []),
      ...(u.kind !== "contracts" && contracts !== ""
        ? ["", "Interface contracts (frozen by the interface-contracts packet; do not change them):", contracts]
        : []),
      ...(u.files.length > 0 ? ["", `Change only these paths: ${u.files.join(", ")}.`] : []),
      ...(outOfScope.length > 0 ? [`Do not change: ${outOfScope.join(", ")}.`] : [])
    ].join("\n")
    return new WorkPacket({
      id: makePacketId(ids[j]!),
      title: u.kind === "contracts" || u.kind === "qa" ? u.title : clip(u.title, 100),
      specSection: u.specSection,
      runClass: u.kind === "qa" ? "qa" : runClassOf(u.title),
      filesInScope: [...u.files],
      filesOutOfScope: outOfScope.filter((p) => !u.files.includes(p)),
      dependsOn: direct[j]!.map((i) => makePacketId(ids[i]!)),
      acceptanceCriteria: own,
      verification: [...input.verification],
      builderPrompt: prompt
    })
  })

  const waves: Array<Wave> = []
  const depth = Math.max(-1, ...level) + 1
  for (let l = 0; l < depth; l++) {
    const members = units.map((u, j) => ({ u, j })).filter(({ j }) => level[j] === l)
    const description = members.every(({ u }) => u.kind === "contracts")
      ? "Contract Freeze / Scaffold: the interface contracts"
      : members.every(({ u }) => u.kind === "qa")
        ? "Integration / QA: the acceptance criteria no section claims"
        : `Implementation: ${clip(members.map(({ u }) => u.title).join(", "), 120)}`
    waves.push(new Wave({ index: l, description, packets: members.map(({ j }) => packets[j]!) }))
  }

  return new Plan({
    id: `plan-${sha256(`${input.missionId}\n${input.specText}`).slice(0, 8)}`,
    missionId: input.missionId,
    status: "draft",
    planner: "offline",
    createdAt: input.createdAt,
    waves
  })
}

/** The acceptance criteria of a mission: those of mission.json, or else the bullets of spec.md. */
export const missionCriteria = (fromMission: ReadonlyArray<string>, specText: string): ReadonlyArray<string> =>
  fromMission.length > 0 ? fromMission : parseMissionSpec(specText).acceptanceCriteria
