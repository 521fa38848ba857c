/**
 * `promote`: a mission's approved plan becomes tracker issues, one per packet, under one mission
 * issue whose task list links them, each packet's issue saying which issues it depends on. The
 * mapping packet → issue is kept in `docs/specs/<mission>/promotion.json`, written after every
 * issue made, so a run that fails half-way leaves what it did and the next run finishes the rest.
 * Issues are also found by a hidden marker in their body, so a lost mapping file duplicates nothing.
 * Text from the plan is data: secrets are redacted, @mentions and HTML comments are defused.
 */
import { atomicWriter, type Plan, Project, type WorkPacket } from "@spec-orch/contract"
import { Redactor } from "@spec-orch/harness"
import { planNeedsApproval, Plans } from "@spec-orch/task"
import { Effect, FileSystem, Path, Schema } from "effect"
import { GitHub, type GitHubIssue } from "./GitHub.js"
import { Linear, type LinearIssue } from "./Linear.js"
import { TrackerError, TrackerNotFound } from "./TrackerError.js"

/** The mapping written to `promotion.json`. */
export interface PromotionRecord {
  readonly mission: string
  readonly tracker: "github" | "linear"
  /** `owner/name` for GitHub, the team key for Linear. */
  readonly target: string
  readonly parent?: PromotedIssue | undefined
  readonly packets: Readonly<Record<string, PromotedIssue>>
}

/** One issue promote made (or found). */
export interface PromotedIssue {
  /** `#12` on GitHub, `SON-12` on Linear. */
  readonly ref: string
  readonly number: number
  /** Linear's issue id. */
  readonly id?: string | undefined
  readonly url: string
  /** Linear: its `blocks` relations were made. */
  readonly related?: boolean | undefined
}

/** What happened (or, with `--dry-run`, would happen) to one issue. */
export interface PromoteStep {
  /** The packet id, or `null` for the mission issue. */
  readonly packet: string | null
  readonly title: string
  readonly action: "created" | "found" | "recorded" | "would-create" | "updated" | "would-update"
  readonly issue: PromotedIssue | null
  readonly dependsOn: ReadonlyArray<string>
}

export interface PromoteOutcome {
  readonly mission: string
  readonly tracker: "github" | "linear"
  readonly target: string
  readonly file: string
  readonly dryRun: boolean
  readonly steps: ReadonlyArray<PromoteStep>
  readonly created: number
  /** What a dry run could not check (no token, tracker unreachable). */
  readonly notes: ReadonlyArray<string>
}

/** Promote refused or could not finish (the message says what and how to go on). */
export class PromoteError extends Schema.TaggedError<PromoteError>()("PromoteError", {
  mission: Schema.String,
  reason: Schema.String
}) {
  override get message(): string {
    return `cannot promote mission ${this.mission}: ${this.reason}`
  }
}

/** The hidden marker of a packet's issue (`packet` null: the mission issue). */
export const promoteMarker = (mission: string, packet: string | null): string =>
  `<!-- spec-orch:promote mission=${mission} ${packet === null ? "mission-issue" : `packet=${packet}`} -->`

const MARKER = /<!-- spec-orch:promote mission=(\S+) (?:packet=(\S+)|mission-issue) -->/
const PACKET_FOOTER = /^spec-orch mission (\S+) packet (\S+) \u00b7 wave \d+/
const MISSION_FOOTER = /^spec-orch mission (\S+) \u00b7 promoted by /

/**
 * Which mission and packet (`null`: the mission issue) an issue was made for: the hidden marker, or
 * (where a tracker drops HTML comments from descriptions, as Linear may) the body's last line, the
 * visible footer promote writes. Only the last line counts, so plan text above it cannot pose as one.
 */
export const markerOf = (body: string): { readonly mission: string; readonly packet: string | null } | undefined => {
  const hidden = MARKER.exec(body)
  if (hidden !== null) return { mission: hidden[1]!, packet: hidden[2] ?? null }
  const last = body.trimEnd().split("\n").pop()?.trim().replaceAll("\\", "") ?? ""
  const p = PACKET_FOOTER.exec(last)
  if (p !== null) return { mission: p[1]!, packet: p[2]! }
  const m = MISSION_FOOTER.exec(last)
  return m !== null ? { mission: m[1]!, packet: null } : undefined
}

/**
 * Plan text made safe to post: `@name` would notify someone and `<!--` could forge a marker or hide
 * text, so a zero-width space goes after `@` and the comment opener is escaped.
 */
export const defuse = (text: string): string =>
  text.replace(/@(?=[A-Za-z0-9_-])/g, "@\u200b").replaceAll("<!--", "&lt;!--")

/** Packets in an order where every dependency comes before its dependents (wave order otherwise). */
const ordered = (plan: Plan): Array<{ readonly packet: WorkPacket; readonly wave: number }> => {
  const all = plan.waves.flatMap((w) => w.packets.map((packet) => ({ packet, wave: w.index })))
  const byId = new Map(all.map((x) => [x.packet.id as string, x]))
  const out: Array<{ readonly packet: WorkPacket; readonly wave: number }> = []
  const seen = new Set<string>()
  const visit = (id: string, stack: Set<string>) => {
    const x = byId.get(id)
    if (x === undefined || seen.has(id) || stack.has(id)) return
    stack.add(id)
    for (const d of x.packet.dependsOn) visit(d, stack)
    stack.delete(id)
    seen.add(id)
    out.push(x)
  }
  for (const x of all) visit(x.packet.id, new Set())
  return out
}

const list = (items: ReadonlyArray<string>, code: boolean): Array<string> =>
  items.length === 0 ? ["(none listed)"] : items.map((i) => `- ${code ? `\`${i.replaceAll("`", "'")}\`` : defuse(i)}`)

/** The body of a packet's issue. */
export const packetBody = (input: {
  readonly mission: string
  readonly packet: WorkPacket
  readonly wave: number
  readonly parent: PromotedIssue | undefined
  readonly dependencies: ReadonlyArray<{ readonly packet: string; readonly issue: PromotedIssue | undefined }>
  readonly redact: (text: string) => string
}): string => {
  const { mission, packet: p } = input
  const goal = p.builderPrompt.trim() !== "" ? p.builderPrompt.trim() : p.title
  const lines = [
    promoteMarker(mission, p.id),
    ...(input.parent !== undefined ? [`Part of ${input.parent.ref} (mission \`${mission}\`).`, ""] : []),
    "## Goal",
    defuse(goal),
    "",
    "## Files in scope",
    ...list(p.filesInScope, true),
    ...(p.filesOutOfScope.length > 0 ? ["", "## Files out of scope", ...list(p.filesOutOfScope, true)] : []),
    "",
    "## Acceptance criteria",
    ...(p.acceptanceCriteria.length === 0 ? ["(none listed)"] : p.acceptanceCriteria.map((c) => `- [ ] ${defuse(c)}`)),
    ...(input.dependencies.length > 0
      ? [
          "",
          "## Dependencies",
          ...input.dependencies.map((d) =>
            d.issue !== undefined
              ? `Depends on ${d.issue.ref} (packet \`${d.packet}\`)`
              : `Depends on packet \`${d.packet}\``
          )
        ]
      : []),
    "",
    "---",
    `spec-orch mission ${mission} packet ${p.id} · wave ${input.wave}${p.specSection !== "" ? ` · spec section "${defuse(p.specSection)}"` : ""}`
  ]
  return input.redact(lines.join("\n"))
}

/** The body of the mission issue: a task list of the packets' issues. */
export const missionBody = (input: {
  readonly mission: string
  readonly title: string
  readonly packets: ReadonlyArray<{ readonly packet: WorkPacket; readonly issue: PromotedIssue | undefined }>
  readonly redact: (text: string) => string
}): string =>
  input.redact(
    [
      promoteMarker(input.mission, null),
      `Mission \`${input.mission}\`: ${defuse(input.title)}`,
      "",
      "## Packets",
      ...input.packets.map(
        ({ issue, packet }) =>
          `- [ ] ${issue !== undefined ? issue.ref : defuse(packet.title)} (packet \`${packet.id}\`)`
      ),
      "",
      "---",
      `spec-orch mission ${input.mission} · promoted by \`spec-orch promote ${input.mission}\``
    ].join("\n")
  )

/** Reads `promotion.json`, or an empty record when there is none; a broken file is an error. */
const readRecord = Effect.fn("Promote.readRecord")(function* (mission: string, file: string, abs: string) {
  const fs = yield* FileSystem.FileSystem
  const text = yield* fs.readFileString(abs).pipe(Effect.option)
  if (text._tag === "None") return undefined
  const parsed = yield* Effect.try({ try: () => JSON.parse(text.value) as PromotionRecord, catch: (e) => e }).pipe(
    Effect.mapError(
      (e) =>
        new PromoteError({
          mission,
          reason: `${file} is not valid JSON (${String((e as Error)?.message ?? e)}); fix it or delete it (issues are also found by their hidden marker)`
        })
    )
  )
  if (typeof parsed !== "object" || parsed === null || typeof parsed.packets !== "object" || parsed.packets === null) {
    return yield* new PromoteError({
      mission,
      reason: `${file} has no "packets" object; fix it or delete it (issues are also found by their hidden marker)`
    })
  }
  return parsed
})

/** What promote needs from a tracker. */
interface Target {
  readonly tracker: "github" | "linear"
  /** `owner/name` on GitHub, the team key on Linear. */
  readonly name: string
  /** Every issue of the target with its body, to find marked ones (pull requests left out). */
  readonly listed: Effect.Effect<ReadonlyArray<{ readonly body: string; readonly issue: PromotedIssue }>, TrackerError>
  readonly create: (input: {
    readonly title: string
    readonly body: string
    readonly parent: PromotedIssue | undefined
    readonly label: string
  }) => Effect.Effect<PromotedIssue, TrackerError>
  /** The issue's body now, or `undefined` when it is gone. */
  readonly bodyOf: (issue: PromotedIssue) => Effect.Effect<string | undefined, TrackerError>
  readonly setBody: (issue: PromotedIssue, body: string) => Effect.Effect<void, TrackerError>
  /** Records that `blocker` blocks `issue` as a tracker relation, where the tracker has them (Linear); GitHub says it in the body. */
  readonly relate: ((blocker: PromotedIssue, issue: PromotedIssue) => Effect.Effect<void, TrackerError>) | undefined
}

const asTarget = (t: Target): Target => t
const githubIssue = (issue: GitHubIssue): PromotedIssue => ({
  ref: `#${issue.number}`,
  number: issue.number,
  url: issue.url
})
const linearIssue = (issue: LinearIssue): PromotedIssue => ({
  ref: issue.identifier,
  number: Number(issue.identifier.split("-").pop()),
  id: issue.id,
  url: issue.url
})

const githubTarget = Effect.gen(function* () {
  const github = yield* GitHub
  const repo = yield* github.repo
  return asTarget({
    tracker: "github",
    name: `${repo.owner}/${repo.name}`,
    listed: Effect.map(github.listIssues({ state: "all" }), (all) =>
      all.filter((i) => !i.isPullRequest).map((i) => ({ body: i.body ?? "", issue: githubIssue(i) }))
    ),
    create: (input) =>
      Effect.map(github.createIssue({ title: input.title, body: input.body, labels: [input.label] }), githubIssue),
    bodyOf: (issue) =>
      Effect.map(github.getIssue(issue.number), (o) => (o._tag === "Some" ? (o.value.body ?? "") : undefined)),
    setBody: (issue, body) => Effect.asVoid(github.updateIssue(issue.number, { body })),
    relate: undefined
  })
})

const linearTarget = Effect.gen(function* () {
  const project = yield* Project
  const linear = yield* Linear
  const key = project.config.linear.team_key
  const team = yield* linear.team(key)
  if (team._tag === "None") {
    return yield* new TrackerError({
      operation: `find Linear team ${key}`,
      reason: new TrackerNotFound({ tracker: "linear", what: `team ${key} ([linear] team_key)` })
    })
  }
  const teamId = team.value.id
  const idOf = (issue: PromotedIssue) => issue.id ?? issue.ref
  return asTarget({
    tracker: "linear",
    name: key,
    listed: Effect.map(linear.listIssues({ teamKey: key }), (all) =>
      all.map((i) => ({ body: i.description ?? "", issue: linearIssue(i) }))
    ),
    create: (input) =>
      Effect.map(
        linear.createIssue({
          teamId,
          title: input.title,
          description: input.body,
          parentId: input.parent === undefined ? undefined : idOf(input.parent)
        }),
        linearIssue
      ),
    bodyOf: (issue) =>
      Effect.map(linear.getIssue(idOf(issue)), (o) => (o._tag === "Some" ? (o.value.description ?? "") : undefined)),
    setBody: (issue, body) => linear.updateDescription(idOf(issue), body),
    relate: (blocker, issue) => linear.createRelation(idOf(blocker), idOf(issue), "blocks")
  })
})

/** Promotes a mission's approved plan to GitHub issues (`[github] repo`) or Linear issues (`[linear] team_key`). */
export const promote = Effect.fn("Promote.promote")(function* (
  mission: string,
  options: { readonly tracker: "github" | "linear"; readonly dryRun: boolean }
) {
  const project = yield* Project
  const plans = yield* Plans
  const { redact } = yield* Redactor
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  const fail = (reason: string) => new PromoteError({ mission, reason })

  const view = yield* plans.read(mission).pipe(Effect.mapError((e) => fail(e.message)))
  const plan = view.plan
  const why = planNeedsApproval(plan)
  const approved =
    plan.approvedBy !== undefined ||
    plan.status === "approved" ||
    plan.status === "executing" ||
    plan.status === "completed"
  if (why !== undefined || !approved) {
    return yield* fail(
      why ??
        `its plan is not approved; review it (\`spec-orch plan show ${mission}\`) and approve it with \`spec-orch plan approve ${mission}\``
    )
  }
  const packets = ordered(plan)
  if (packets.length === 0) return yield* fail(`its plan (${view.file}) has no packets`)

  const file = path.join("docs", "specs", mission, "promotion.json")
  const abs = project.resolve(file)
  const chosen: Effect.Effect<Target, TrackerError, GitHub | Linear | Project> =
    options.tracker === "github" ? githubTarget : linearTarget
  const tracker = yield* chosen.pipe(Effect.mapError((e) => fail(e.message)))
  const target = tracker.name
  const previous = yield* readRecord(mission, file, abs)
  if (previous !== undefined && (previous.tracker !== tracker.tracker || previous.target !== target)) {
    return yield* fail(
      `${file} records a promotion to ${previous.tracker} ${previous.target}, not ${tracker.tracker} ${target}; promote to that tracker, or move the file away to promote again`
    )
  }
  const mapped = new Map<string, PromotedIssue>(Object.entries(previous?.packets ?? {}))
  const notes: Array<string> = []
  let parent: PromotedIssue | undefined = previous?.parent
  const found = new Set<string>()
  const trackerFail = (e: TrackerError) =>
    fail(
      `${e.message}${mapped.size > 0 || parent !== undefined ? `; what was made so far is in ${file}, run promote again to finish` : ""}`
    )

  // Issues made by an earlier run whose mapping was lost: find them by their marker.
  if (parent === undefined || packets.some((x) => !mapped.has(x.packet.id))) {
    const existing = options.dryRun
      ? yield* tracker.listed.pipe(
          Effect.catchTag("TrackerError", (e) => {
            notes.push(
              `could not look for issues made earlier (${e.message}); packets only they hold may show as to create`
            )
            return Effect.succeed([])
          })
        )
      : yield* tracker.listed.pipe(Effect.mapError(trackerFail))
    for (const { body, issue } of [...existing].sort((a, b) => a.issue.number - b.issue.number)) {
      const m = markerOf(body)
      if (m === undefined || m.mission !== mission) continue
      if (m.packet === null) {
        if (parent === undefined) {
          parent = issue
          found.add("")
        }
      } else if (!mapped.has(m.packet)) {
        // Relations of an issue found this way are taken as made (the run that made it made them right after).
        mapped.set(m.packet, { ...issue, ...(tracker.relate !== undefined ? { related: true } : {}) })
        found.add(m.packet)
      }
    }
  }

  const write = options.dryRun
    ? Effect.void
    : Effect.suspend(() => {
        const record: PromotionRecord = {
          mission,
          tracker: tracker.tracker,
          target,
          ...(parent !== undefined ? { parent } : {}),
          packets: Object.fromEntries(mapped)
        }
        return atomicWriter(fs, path)(abs, `${JSON.stringify(record, null, 2)}\n`)
      })
  if (found.size > 0) yield* write

  const steps: Array<PromoteStep> = []
  let created = 0
  const title = (p: WorkPacket) => redact(`[${mission}] ${p.title}`)
  const missionTitle = redact(
    `[${mission}] mission: ${plan.waves.length} wave${plan.waves.length === 1 ? "" : "s"}, ${packets.length} packet${packets.length === 1 ? "" : "s"}`
  )
  const bodyOfMission = () =>
    missionBody({
      mission,
      title: plan.id,
      packets: packets.map((x) => ({ packet: x.packet, issue: mapped.get(x.packet.id) })),
      redact
    })
  const label = `mission:${mission}`

  // The mission issue first, so every packet's issue can point at it.
  if (parent === undefined) {
    if (options.dryRun) {
      steps.push({ packet: null, title: missionTitle, action: "would-create", issue: null, dependsOn: [] })
    } else {
      parent = yield* tracker
        .create({ title: missionTitle, body: bodyOfMission(), parent: undefined, label })
        .pipe(Effect.mapError(trackerFail))
      created += 1
      yield* write
      steps.push({ packet: null, title: missionTitle, action: "created", issue: parent, dependsOn: [] })
    }
  } else {
    steps.push({
      packet: null,
      title: missionTitle,
      action: found.has("") ? "found" : "recorded",
      issue: parent,
      dependsOn: []
    })
  }

  for (const { packet, wave } of packets) {
    const have = mapped.get(packet.id)
    const dependsOn = packet.dependsOn.map(String)
    if (have !== undefined && (tracker.relate === undefined || have.related === true)) {
      steps.push({
        packet: packet.id,
        title: title(packet),
        action: found.has(packet.id) ? "found" : "recorded",
        issue: have,
        dependsOn
      })
      continue
    }
    if (options.dryRun) {
      steps.push({
        packet: packet.id,
        title: title(packet),
        action: have === undefined ? "would-create" : "would-update",
        issue: have !== undefined ? have : null,
        dependsOn
      })
      continue
    }
    let issue = have
    if (issue === undefined) {
      const body = packetBody({
        mission,
        packet,
        wave,
        parent,
        dependencies: dependsOn.map((d) => ({ packet: d, issue: mapped.get(d) })),
        redact
      })
      issue = yield* tracker.create({ title: title(packet), body, parent, label }).pipe(Effect.mapError(trackerFail))
      mapped.set(packet.id, issue)
      created += 1
      yield* write
    }
    if (tracker.relate !== undefined) {
      // Its issue is recorded first, so a failure here is finished by the next run without a second issue.
      for (const d of dependsOn) {
        const blocker = mapped.get(d)
        if (blocker !== undefined) yield* tracker.relate(blocker, issue).pipe(Effect.mapError(trackerFail))
      }
      mapped.set(packet.id, { ...issue, related: true })
      yield* write
    }
    steps.push({
      packet: packet.id,
      title: title(packet),
      action: have === undefined ? "created" : "updated",
      issue,
      dependsOn
    })
  }

  // The mission issue's task list names every packet's issue once they all exist.
  if (parent !== undefined) {
    const want = bodyOfMission()
    const current = options.dryRun
      ? yield* tracker.bodyOf(parent).pipe(
          Effect.catchTag("TrackerError", (e) => {
            notes.push(`could not read the mission issue ${parent!.ref} (${e.message})`)
            return Effect.succeed(undefined)
          })
        )
      : yield* tracker.bodyOf(parent).pipe(Effect.mapError(trackerFail))
    if (current !== undefined && current.trim() !== want.trim()) {
      if (!options.dryRun) yield* tracker.setBody(parent, want).pipe(Effect.mapError(trackerFail))
      steps[0] = {
        ...steps[0]!,
        action: options.dryRun ? "would-update" : steps[0]!.action === "created" ? "created" : "updated"
      }
    }
  }
  return {
    mission,
    tracker: tracker.tracker,
    target,
    file,
    dryRun: options.dryRun,
    steps,
    created,
    notes
  } satisfies PromoteOutcome
})

/** Promotes a mission's approved plan to GitHub issues in `[github] repo`. */
export const promoteToGitHub = (mission: string, options: { readonly dryRun: boolean }) =>
  promote(mission, { tracker: "github", dryRun: options.dryRun })

/** The mission's `promotion.json` (read-only), or `undefined` when it was never promoted. */
export const readPromotion = Effect.fn("Promote.readPromotion")(function* (mission: string) {
  const project = yield* Project
  const path = yield* Path.Path
  const file = path.join("docs", "specs", mission, "promotion.json")
  const record = yield* readRecord(mission, file, project.resolve(file))
  return record === undefined ? undefined : { file, record }
})
