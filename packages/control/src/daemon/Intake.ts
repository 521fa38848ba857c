/**
 * Who may put work in front of an agent: the daemon's intake allow-list. A tracker issue is
 * dispatched only when at least one allow rule admits it. GitHub: the author's association with the
 * repository (default: owners, members, collaborators), named users, members of named teams, or a
 * label. Linear: an issue of a named team created by a member (not a guest, an app or an
 * integration), named creators, or a label. Issue files are the project's own and always admitted;
 * `[daemon] allow_anyone = true` turns the list off. The judgement is pure; GitHub team membership is
 * asked only when nothing else admitted the issue. A person's `spec-orch run` is never blocked: it
 * gets a warning instead.
 */
import { type Issue, IssueSource, Project, type SpecOrchConfig } from "@spec-orch/contract"
import { Effect, Option } from "effect"
import { GitHub } from "../trackers/GitHub.js"

/** The allow rules from `[github]`, `[linear]` and `[daemon] allow_anyone`. */
export interface IntakeRules {
  readonly allowAnyone: boolean
  readonly github: {
    readonly associations: ReadonlyArray<string>
    readonly users: ReadonlyArray<string>
    /** `team-slug` (of the repository's owner) or `org/team-slug`. */
    readonly teams: ReadonlyArray<string>
    readonly labels: ReadonlyArray<string>
  }
  readonly linear: {
    /** Team keys. */
    readonly teams: ReadonlyArray<string>
    /** Emails or user ids. */
    readonly creators: ReadonlyArray<string>
    readonly labels: ReadonlyArray<string>
  }
}

/** Whether an issue may be dispatched: the rule that admitted it, or who it is from and why no rule did. */
export type IntakeVerdict =
  | { readonly admitted: true; readonly by: string }
  | { readonly admitted: false; readonly who: string; readonly reason: string }

/** The intake rules of a project's config. */
export const intakeRules = (config: SpecOrchConfig): IntakeRules => ({
  allowAnyone: config.daemon.allow_anyone,
  github: {
    associations: config.github.allowed_associations,
    users: config.github.allowed_users,
    teams: config.github.allowed_teams,
    labels: config.github.allowed_labels
  },
  linear: {
    teams: config.linear.allowed_teams ?? [config.linear.team_key],
    creators: config.linear.allowed_creators,
    labels: config.linear.allowed_labels
  }
})

const lower = (s: string) => s.trim().toLowerCase()
const listed = (values: ReadonlyArray<string>) => (values.length === 0 ? "none" : values.join(", "))
const labelIn = (issue: Issue, allowed: ReadonlyArray<string>) =>
  issue.labels.find((l) => allowed.some((a) => lower(a) === lower(l)))

/** The repository owner of a GitHub issue (`owner/name#12`). */
const ownerOf = (issue: Issue): string => issue.origin.ref.split("/")[0] ?? ""

/** A configured GitHub team as `org/slug` (a bare slug belongs to the repository's owner). */
const qualifiedTeam = (issue: Issue, team: string): { readonly org: string; readonly slug: string } => {
  const t = team.trim()
  const slash = t.indexOf("/")
  return slash < 0 ? { org: ownerOf(issue), slug: t } : { org: t.slice(0, slash), slug: t.slice(slash + 1) }
}

/** Who filed an issue, for logs and refusals (never any of its text). */
export const describeAuthor = (issue: Issue): string => {
  const a = issue.origin.author
  if (issue.origin.kind === "github")
    return a === undefined ? "an unknown author" : `@${a.id} (author_association ${a.association ?? "unknown"})`
  if (issue.origin.kind === "linear") {
    if (a === undefined) return "no Linear user (created by an integration, or the account was deleted)"
    const name = a.email !== undefined && a.email !== "" ? `${a.name ?? a.id} <${a.email}>` : (a.name ?? a.id)
    return `${name} (${(a.association ?? "member").toLowerCase()})`
  }
  return "an issue file"
}

/**
 * The GitHub teams that could still admit an issue's author, and the login to ask about: `undefined`
 * when the issue is not from GitHub, has no author, or no team is configured.
 */
export const teamsToAsk = (
  rules: IntakeRules,
  issue: Issue
):
  | { readonly login: string; readonly teams: ReadonlyArray<{ readonly org: string; readonly slug: string }> }
  | undefined => {
  const login = issue.origin.author?.id
  if (issue.origin.kind !== "github" || login === undefined || rules.github.teams.length === 0) return undefined
  return { login, teams: rules.github.teams.map((t) => qualifiedTeam(issue, t)) }
}

/**
 * Judges an issue against the allow rules (pure). `memberOf` lists the GitHub teams (`org/slug`) the
 * author is known to belong to; without it the team rule admits nobody.
 */
export const judgeIntake = (rules: IntakeRules, issue: Issue, memberOf: ReadonlyArray<string> = []): IntakeVerdict => {
  if (rules.allowAnyone) return { admitted: true, by: "[daemon] allow_anyone" }
  const author = issue.origin.author
  switch (issue.origin.kind) {
    case "github": {
      const g = rules.github
      const association = author?.association?.toUpperCase()
      if (association !== undefined && g.associations.some((a) => a.toUpperCase() === association))
        return { admitted: true, by: `author_association ${association}` }
      if (author !== undefined && g.users.some((u) => lower(u.replace(/^@/, "")) === lower(author.id)))
        return { admitted: true, by: `[github] allowed_users @${author.id}` }
      const team = g.teams
        .map((t) => qualifiedTeam(issue, t))
        .find((t) => memberOf.some((m) => lower(m) === lower(`${t.org}/${t.slug}`)))
      if (team !== undefined) return { admitted: true, by: `member of the team ${team.org}/${team.slug}` }
      const label = labelIn(issue, g.labels)
      if (label !== undefined) return { admitted: true, by: `label "${label}"` }
      return {
        admitted: false,
        who: describeAuthor(issue),
        reason: `no [github] intake rule admits it (allowed_associations: ${listed(g.associations)}; allowed_users: ${listed(g.users)}; allowed_teams: ${listed(g.teams)}; allowed_labels: ${listed(g.labels)})`
      }
    }
    case "linear": {
      const l = rules.linear
      const team = issue.id.slice(0, Math.max(0, issue.id.lastIndexOf("-")))
      const member = author !== undefined && (author.association ?? "MEMBER").toUpperCase() === "MEMBER"
      if (member && l.teams.some((t) => lower(t) === lower(team)))
        return { admitted: true, by: `created by a member of the team ${team}` }
      const creator =
        author === undefined
          ? undefined
          : l.creators.find(
              (c) =>
                c.trim() === author.id ||
                (author.email !== undefined && author.email !== "" && lower(c) === lower(author.email))
            )
      if (creator !== undefined) return { admitted: true, by: `[linear] allowed_creators ${creator}` }
      const label = labelIn(issue, l.labels)
      if (label !== undefined) return { admitted: true, by: `label "${label}"` }
      return {
        admitted: false,
        who: describeAuthor(issue),
        reason: `no [linear] intake rule admits it (allowed_teams: ${listed(l.teams)}, for issues a member created; allowed_creators: ${listed(l.creators)}; allowed_labels: ${listed(l.labels)})`
      }
    }
    default:
      return { admitted: true, by: "an issue file of the project" }
  }
}

/**
 * Judges an issue, asking `isTeamMember` about the configured GitHub teams only when no other rule
 * admitted it. A membership that cannot be read admits nobody; the refusal says why.
 */
export const admitIssue = <E extends { readonly message: string }, R>(
  rules: IntakeRules,
  issue: Issue,
  isTeamMember: (org: string, slug: string, login: string) => Effect.Effect<boolean, E, R>
): Effect.Effect<IntakeVerdict, never, R> =>
  Effect.gen(function* () {
    const first = judgeIntake(rules, issue)
    const ask = first.admitted ? undefined : teamsToAsk(rules, issue)
    if (first.admitted || ask === undefined) return first
    const unreadable: Array<string> = []
    for (const team of ask.teams) {
      const answer = yield* Effect.result(isTeamMember(team.org, team.slug, ask.login))
      if (answer._tag === "Success" && answer.success) return judgeIntake(rules, issue, [`${team.org}/${team.slug}`])
      if (answer._tag === "Failure") unreadable.push(`${team.org}/${team.slug}: ${answer.failure.message}`)
    }
    return unreadable.length === 0
      ? first
      : { ...first, reason: `${first.reason}; team membership could not be read (${unreadable.join("; ")})` }
  })

/**
 * For a person's `spec-orch run` of a tracker issue: a warning when the daemon would not dispatch it
 * (`undefined` when it would, for issue files, and when the issue cannot be read: the run says why).
 */
export const intakeWarning = Effect.fnUntraced(function* (issueId: string) {
  const project = yield* Project
  const source = project.config.issue.source.trim().toLowerCase()
  if (source !== "github" && source !== "linear") return undefined
  const issue = yield* IssueSource.use((s) => s.get(issueId)).pipe(Effect.option)
  if (Option.isNone(issue)) return undefined
  const github = yield* GitHub
  const verdict = yield* admitIssue(intakeRules(project.config), issue.value, github.isTeamMember)
  if (verdict.admitted) return undefined
  return `warning: ${issueId} was filed by ${verdict.who}, and the daemon would not run it: ${verdict.reason}. You started this run yourself, so it goes ahead; its text is untrusted and reaches the agent fenced as data.`
})
