/**
 * Validate and normalize a 200-packet plan (10 waves of 20; dependencies on earlier waves; paths,
 * directories and globs, with overlaps that force moves), and one scheduling step. Median of 25
 * runs after 3 warm-ups, each run on fresh footprint caches' worth of distinct plans.
 */
import { makeMissionId, makePacketId, Plan, Wave, WorkPacket } from "@spec-orch/contract"
import { normalizePlan, scheduleWaves, validatePlan } from "../src/index.js"

const WAVES = 10
const PER_WAVE = 20
const RUNS = 25

/** A deterministic pseudo-random generator, so every run plans the same work. */
const rng = (seed: number) => () => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff
  return seed / 0x7fffffff
}

const makePlan = (variant: number): Plan => {
  const random = rng(42 + variant)
  const footprint = (w: number, i: number): Array<string> => {
    const r = random()
    if (r < 0.6) return [`src/mod${w}/file${i}.ts`, `test/mod${w}/file${i}.test.ts`]
    if (r < 0.75) return [`src/mod${w}/part${i % 5}/`]
    if (r < 0.9) return [`src/mod${w}/gen${i}/**/*.ts`, `docs/mod${w}-${i}.md`]
    return [`src/mod${w}/file${(i + 1) % PER_WAVE}.ts`] // overlaps a sibling
  }
  const waves = Array.from(
    { length: WAVES },
    (_, w) =>
      new Wave({
        index: w,
        description: `wave ${w}`,
        packets: Array.from(
          { length: PER_WAVE },
          (_, i) =>
            new WorkPacket({
              id: makePacketId(`p${w}-${i}`),
              title: `Packet ${w}.${i}`,
              specSection: "Scope",
              runClass: "feature",
              filesInScope: footprint(w, i),
              filesOutOfScope: [],
              dependsOn:
                w === 0
                  ? []
                  : Array.from({ length: 1 + Math.floor(random() * 3) }, () =>
                      makePacketId(`p${Math.floor(random() * w)}-${Math.floor(random() * PER_WAVE)}`)
                    ),
              acceptanceCriteria: [`Criterion ${w}.${i} holds`],
              verification: [],
              builderPrompt: "…"
            })
        )
      })
  )
  return new Plan({ id: `plan-${variant}`, missionId: makeMissionId("bench"), planner: "bench", createdAt: "", waves })
}

const median = (xs: Array<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const time = (f: () => unknown) => {
  const t = process.hrtime.bigint()
  f()
  return Number(process.hrtime.bigint() - t) / 1e6
}
const report = (metric: string, value: number, unit: string, target?: string, note?: string) =>
  console.log(
    JSON.stringify({
      bench: "task-plan",
      metric,
      value: Math.round(value * 100) / 100,
      unit,
      ...(target ? { target } : {}),
      ...(note ? { note } : {})
    })
  )

const plans = Array.from({ length: RUNS + 3 }, (_, i) => makePlan(i))
const criteria = Array.from(
  { length: WAVES * PER_WAVE },
  (_, k) => `Criterion ${Math.floor(k / PER_WAVE)}.${k % PER_WAVE} holds`
)
const validate: Array<number> = []
const normalize: Array<number> = []
const schedule: Array<number> = []
let moves = 0
let problems = 0
plans.forEach((plan, i) => {
  const v = time(() => (problems = validatePlan(plan, { acceptanceCriteria: criteria }).length))
  let normalized = plan
  const n = time(() => {
    const r = normalizePlan(plan)
    normalized = r.plan
    moves = r.moves.length
  })
  const s = time(() =>
    scheduleWaves(normalized, {
      finished: normalized.waves[0]!.packets.map((p) => p.id),
      failed: [],
      stopDependantsOnly: true
    })
  )
  if (i >= 3) {
    validate.push(v)
    normalize.push(n)
    schedule.push(s)
  }
})
report(
  "validatePlan, 200 packets + 200 criteria (median)",
  median(validate),
  "ms",
  "< 50 ms",
  `${problems} problems in the last plan`
)
report(
  "normalizePlan, 200 packets (median)",
  median(normalize),
  "ms",
  "< 50 ms",
  `${moves} packets moved in the last plan`
)
report("scheduleWaves, 200 packets (median)", median(schedule), "ms", "< 5 ms")
