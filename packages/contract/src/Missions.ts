/**
 * Missions on disk: `docs/specs/<mission-id>/spec.md` (plain Markdown, reviewable in git) and
 * `mission.json` (the original's format, loaded unchanged). Approval freezes the spec's hash; a
 * spec edited after approval is reported, never silently accepted.
 */
import { Context, Effect, FileSystem, Layer, Path, Schema } from "effect"
import * as z from "zod/mini"
import { FileMissing, FileProblem, InvalidFile } from "./FileProblem.js"
import { makeMissionId, slugify } from "./Ids.js"
import { atomicWriter, nowIso, sha256 } from "./Files.js"
import { yamlLocator } from "./Locations.js"
import { validateWith } from "./Validation.js"
import { canTransitionMission, Mission, MissionStatus } from "./Mission.js"
import { Project } from "./Project.js"

const STATUS_ALIASES: Record<string, MissionStatus> = {
  executing: "in_progress",
  planned: "approved",
  planning: "approved",
  promoting: "approved"
}

/** The `mission.json` format (snake_case; the original's fields plus `approved_by` and `spec_hash`). */
export const MissionFile = z.object({
  mission_id: z.string().check(z.regex(/^[a-z0-9][a-z0-9-]{0,127}$/, "a mission id is a lowercase slug")),
  title: z.string().check(z.minLength(1)),
  status: z.pipe(
    z.pipe(
      z.string(),
      z.transform((s) => STATUS_ALIASES[s] ?? s)
    ),
    z.enum(MissionStatus.literals)
  ),
  spec_path: z.string(),
  acceptance_criteria: z._default(z.array(z.string()), []),
  constraints: z._default(z.array(z.string()), []),
  interface_contracts: z._default(z.array(z.string()), []),
  created_at: z.string(),
  approved_at: z.optional(z.nullable(z.string())),
  approved_by: z.optional(z.nullable(z.string())),
  spec_hash: z.optional(z.nullable(z.string())),
  completed_at: z.optional(z.nullable(z.string()))
})

/** A mission whose status may not move to the requested one. */
export class MissionTransitionRefused extends Schema.TaggedError<MissionTransitionRefused>()(
  "MissionTransitionRefused",
  {
    missionId: Schema.String,
    from: Schema.String,
    to: Schema.String
  }
) {
  override get message(): string {
    return `mission ${this.missionId} is ${this.from}; it cannot become ${this.to}`
  }
}

/** A mission id that is already taken. */
export class MissionExists extends Schema.TaggedError<MissionExists>()("MissionExists", {
  missionId: Schema.String,
  dir: Schema.String
}) {
  override get message(): string {
    return `mission ${this.missionId} already exists in ${this.dir} (choose another --id)`
  }
}

/** A mission with the state of its spec file. */
export interface MissionView {
  readonly mission: Mission
  readonly dir: string
  /** `approved`, `unapproved`, or `changed-since-approval` when spec.md no longer matches the approved hash. */
  readonly specState: "approved" | "unapproved" | "changed-since-approval"
}

export type MissionsError = InvalidFile | FileMissing | MissionTransitionRefused | MissionExists

const toMission = (f: z.output<typeof MissionFile>): Mission =>
  new Mission({
    id: makeMissionId(f.mission_id),
    title: f.title,
    status: f.status,
    specPath: f.spec_path,
    acceptanceCriteria: f.acceptance_criteria,
    constraints: f.constraints,
    interfaceContracts: f.interface_contracts,
    createdAt: f.created_at,
    ...(f.approved_at ? { approvedAt: f.approved_at } : {}),
    ...(f.approved_by ? { approvedBy: f.approved_by } : {}),
    ...(f.spec_hash ? { specHash: f.spec_hash } : {}),
    ...(f.completed_at ? { completedAt: f.completed_at } : {})
  })

const toFile = (m: Mission) => ({
  mission_id: m.id,
  title: m.title,
  status: m.status,
  spec_path: m.specPath,
  acceptance_criteria: m.acceptanceCriteria,
  constraints: m.constraints,
  interface_contracts: m.interfaceContracts,
  created_at: m.createdAt,
  approved_at: m.approvedAt ?? null,
  approved_by: m.approvedBy ?? null,
  spec_hash: m.specHash ?? null,
  completed_at: m.completedAt ?? null
})

/** The text of `mission.json` for a mission. */
export const missionFileText = (m: Mission): string => `${JSON.stringify(toFile(m), null, 2)}\n`

/** The spec skeleton for a new mission. */
export const missionSpecSkeleton = (title: string): string =>
  [
    `# ${title}`,
    "",
    "## Intent",
    "",
    "What this mission achieves and for whom.",
    "",
    "## Acceptance Criteria",
    "",
    "- ",
    "",
    "## Constraints",
    "",
    "- ",
    "",
    "## Interface Contracts",
    "",
    "- ",
    ""
  ].join("\n")

/** Creates, reads and moves missions. */
export class Missions extends Context.Service<
  Missions,
  {
    /** Creates `docs/specs/<id>/{spec.md, mission.json}`; the id defaults to `YYYY-MM-<slug of title>`. */
    readonly create: (input: {
      title: string
      id?: string | undefined
      spec?: string | undefined
    }) => Effect.Effect<MissionView, MissionsError>
    /** All missions, sorted by id; unreadable mission files are reported in `problems`. */
    readonly list: Effect.Effect<{ missions: ReadonlyArray<MissionView>; problems: ReadonlyArray<FileProblem> }>
    /** One mission. */
    readonly get: (id: string) => Effect.Effect<MissionView, MissionsError>
    /** The text of the mission's spec.md. */
    readonly specText: (id: string) => Effect.Effect<string, MissionsError>
    /** Approves the current spec.md: records who, when and its hash. */
    readonly approve: (id: string, approvedBy: string) => Effect.Effect<MissionView, MissionsError>
    /** Moves the mission to another status, if the lifecycle allows it. */
    readonly setStatus: (id: string, status: MissionStatus) => Effect.Effect<MissionView, MissionsError>
  }
>()("@spec-orch/contract/Missions") {
  static readonly layer: Layer.Layer<Missions, never, Project | FileSystem.FileSystem | Path.Path> = Layer.effect(
    Missions,
    Effect.gen(function* () {
      const project = yield* Project
      const fs = yield* FileSystem.FileSystem
      const path = yield* Path.Path
      const writeAtomic = atomicWriter(fs, path)
      const specsDir = project.resolve("docs/specs")
      const rel = (p: string) => path.relative(project.root, p)

      const read = Effect.fn("Missions.read")(function* (id: string) {
        const dir = path.join(specsDir, id)
        const file = path.join(dir, "mission.json")
        const text = yield* fs
          .readFileString(file)
          .pipe(
            Effect.mapError(
              () => new FileMissing({ file: rel(file), what: `mission ${id}`, hint: "see `spec-orch mission list`" })
            )
          )
        let raw: unknown
        try {
          raw = JSON.parse(text)
        } catch (e) {
          return yield* new InvalidFile({
            file: rel(file),
            problems: [
              new FileProblem({
                file: rel(file),
                key: "",
                severity: "error",
                message: `not valid JSON: ${(e as Error).message}`
              })
            ]
          })
        }
        const { value, problems } = validateWith(MissionFile, raw, rel(file), yamlLocator(text))
        if (value === undefined) return yield* new InvalidFile({ file: rel(file), problems })
        const mission = toMission(value)
        const spec = yield* fs.readFileString(project.resolve(mission.specPath)).pipe(Effect.option)
        const hash = spec._tag === "Some" ? sha256(spec.value) : undefined
        const specState: MissionView["specState"] =
          mission.specHash === undefined
            ? mission.approvedAt !== undefined
              ? "approved"
              : "unapproved"
            : mission.specHash === hash
              ? "approved"
              : "changed-since-approval"
        return { mission, dir, specState } satisfies MissionView
      })

      const save = (m: Mission) =>
        writeAtomic(path.join(specsDir, m.id, "mission.json"), `${JSON.stringify(toFile(m), null, 2)}\n`)

      const create = Effect.fn("Missions.create")(function* (input: {
        title: string
        id?: string | undefined
        spec?: string | undefined
      }) {
        const now = yield* nowIso
        const id = makeMissionId(input.id ?? `${now.slice(0, 7)}-${slugify(input.title, 50) || "mission"}`)
        const dir = path.join(specsDir, id)
        if (yield* fs.exists(path.join(dir, "mission.json")).pipe(Effect.orElseSucceed(() => false)))
          return yield* new MissionExists({ missionId: id, dir: rel(dir) })
        const specPath = rel(path.join(dir, "spec.md"))
        yield* writeAtomic(path.join(dir, "spec.md"), input.spec ?? missionSpecSkeleton(input.title))
        const mission = new Mission({
          id,
          title: input.title,
          status: "drafting",
          specPath,
          acceptanceCriteria: [],
          constraints: [],
          interfaceContracts: [],
          createdAt: now
        })
        yield* save(mission)
        return yield* read(id)
      })

      const list = Effect.gen(function* () {
        const names = yield* fs.readDirectory(specsDir).pipe(Effect.orElseSucceed(() => [] as Array<string>))
        const missions: Array<MissionView> = []
        const problems: Array<FileProblem> = []
        for (const name of names.sort()) {
          // dot-directories are work in progress (an import being written), never missions
          if (name.startsWith(".")) continue
          if (!(yield* fs.exists(path.join(specsDir, name, "mission.json")).pipe(Effect.orElseSucceed(() => false))))
            continue
          const r = yield* read(name).pipe(Effect.result)
          if (r._tag === "Success") missions.push(r.success)
          else if (r.failure._tag === "InvalidFile") problems.push(...r.failure.problems)
        }
        return { missions, problems }
      }).pipe(Effect.withSpan("Missions.list"))

      const specText = Effect.fn("Missions.specText")(function* (id: string) {
        const view = yield* read(id)
        return yield* fs
          .readFileString(project.resolve(view.mission.specPath))
          .pipe(Effect.mapError(() => new FileMissing({ file: view.mission.specPath, what: `spec of mission ${id}` })))
      })

      const approve = Effect.fn("Missions.approve")(function* (id: string, approvedBy: string) {
        const view = yield* read(id)
        const m = view.mission
        if (m.status !== "drafting" && m.status !== "approved")
          return yield* new MissionTransitionRefused({ missionId: id, from: m.status, to: "approved" })
        const spec = yield* specText(id)
        const now = yield* nowIso
        yield* save(new Mission({ ...m, status: "approved", approvedAt: now, approvedBy, specHash: sha256(spec) }))
        return yield* read(id)
      })

      const setStatus = Effect.fn("Missions.setStatus")(function* (id: string, status: MissionStatus) {
        const view = yield* read(id)
        const m = view.mission
        if (m.status === status) return view
        if (!canTransitionMission(m.status, status))
          return yield* new MissionTransitionRefused({ missionId: id, from: m.status, to: status })
        const now = yield* nowIso
        yield* save(new Mission({ ...m, status, ...(status === "completed" ? { completedAt: now } : {}) }))
        return yield* read(id)
      })

      return Missions.of({ create, list, get: read, specText, approve, setStatus })
    })
  )
}
