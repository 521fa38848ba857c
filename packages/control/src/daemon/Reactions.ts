/**
 * Reactions to what happens on a published pull request, in the original's
 * `.spec_orch/reactions.yaml` format (loaded unchanged): a trigger (`ci_failed`,
 * `changes_requested`, `approved_and_green`; spec-orch adds `head_changed`) and an action
 * (`comment_ci_failed`, `comment_changes_requested`, `auto_merge`, `requeue_ready`, `noop`;
 * spec-orch adds `reverify`). A missing file means the defaults; a file with problems also falls
 * back to the defaults, as the original does, and the problems are reported with file and line.
 */
import { FileProblem, formatProblem, Project, validateWith, yamlLocator } from "@spec-orch/contract"
import { Effect, FileSystem, Path } from "effect"
import { parse } from "yaml"
import * as z from "zod/mini"

/** What happened on a pull request. */
export const REACTION_TRIGGERS = ["ci_failed", "changes_requested", "approved_and_green", "head_changed"] as const
export type ReactionTrigger = (typeof REACTION_TRIGGERS)[number]

/** What the daemon can do about it. */
export const REACTION_ACTIONS = [
  "comment_ci_failed",
  "comment_changes_requested",
  "auto_merge",
  "requeue_ready",
  "noop",
  "reverify"
] as const
export type ReactionAction = (typeof REACTION_ACTIONS)[number]

/** The reactions file (snake_case, as people write it). */
export const ReactionsFile = z.object({
  reactions: z._default(
    z.array(
      z.object({
        name: z.string().check(z.minLength(1)),
        trigger: z.enum(REACTION_TRIGGERS),
        action: z.enum(REACTION_ACTIONS),
        enabled: z._default(z.boolean(), true),
        params: z._default(
          z.catchall(
            z.object({
              comment_template: z.optional(z.string()),
              merge_method: z.optional(z.enum(["squash", "merge", "rebase"]))
            }),
            z.unknown()
          ),
          {}
        )
      })
    ),
    []
  )
})

/** One reaction rule. */
export interface ReactionRule {
  readonly name: string
  readonly trigger: ReactionTrigger
  readonly action: ReactionAction
  readonly enabled: boolean
  readonly commentTemplate: string | undefined
  readonly mergeMethod: "squash" | "merge" | "rebase"
}

/** The original's three default rules, plus re-verifying when someone pushes to the pull request. */
export const DEFAULT_REACTIONS: ReadonlyArray<ReactionRule> = [
  {
    name: "ci-failed",
    trigger: "ci_failed",
    action: "comment_ci_failed",
    enabled: true,
    commentTemplate: undefined,
    mergeMethod: "squash"
  },
  {
    name: "changes-requested",
    trigger: "changes_requested",
    action: "comment_changes_requested",
    enabled: true,
    commentTemplate: undefined,
    mergeMethod: "squash"
  },
  {
    name: "approved-and-green",
    trigger: "approved_and_green",
    action: "auto_merge",
    enabled: true,
    commentTemplate: undefined,
    mergeMethod: "squash"
  },
  {
    name: "head-changed",
    trigger: "head_changed",
    action: "reverify",
    enabled: true,
    commentTemplate: undefined,
    mergeMethod: "squash"
  }
]

/** Default comment texts, with the original's placeholders. */
export const DEFAULT_TEMPLATES: Readonly<Record<"comment_ci_failed" | "comment_changes_requested", string>> = {
  comment_ci_failed:
    "CI failed on `{sha}` of pull request #{pr_number} ({issue_id}): {checks_failed}. spec-orch recorded the failures as findings on {issue_id}.",
  comment_changes_requested:
    'Changes were requested on pull request #{pr_number} ({issue_id}); spec-orch recorded the review as findings. Move the issue back to "{consume_state}" to have it worked on again.'
}

/** The placeholders a template may use (the original's set); anything else is left as written. */
export const TEMPLATE_KEYS = [
  "issue_id",
  "pr_number",
  "sha",
  "consume_state",
  "review_decision",
  "merge_state",
  "checks_passed",
  "checks_failed",
  "mergeable"
] as const

/** Fills `{key}` placeholders of known keys only. */
export const renderTemplate = (
  template: string,
  values: Readonly<Partial<Record<(typeof TEMPLATE_KEYS)[number], string | number | boolean>>>
): string =>
  template.replace(/\{(\w+)\}/g, (whole, key: string) =>
    (TEMPLATE_KEYS as ReadonlyArray<string>).includes(key) &&
    values[key as (typeof TEMPLATE_KEYS)[number]] !== undefined
      ? String(values[key as (typeof TEMPLATE_KEYS)[number]])
      : whole
  )

/** The rules in `text` (a reactions.yaml), or the defaults with the problems that made the file unusable. */
export const parseReactions = (
  text: string,
  file: string
): {
  readonly rules: ReadonlyArray<ReactionRule>
  readonly problems: ReadonlyArray<FileProblem>
  readonly fromFile: boolean
} => {
  let raw: unknown
  try {
    raw = parse(text, { uniqueKeys: false }) ?? {}
  } catch (e) {
    return {
      rules: DEFAULT_REACTIONS,
      problems: [
        new FileProblem({ file, key: "", severity: "error", message: `is not valid YAML: ${(e as Error).message}` })
      ],
      fromFile: false
    }
  }
  const { value, problems } = validateWith(ReactionsFile, raw, file, yamlLocator(text))
  if (value === undefined || problems.some((p) => p.severity === "error"))
    return { rules: DEFAULT_REACTIONS, problems, fromFile: false }
  return {
    rules: value.reactions.map((r) => ({
      name: r.name,
      trigger: r.trigger,
      action: r.action,
      enabled: r.enabled,
      commentTemplate: r.params.comment_template,
      mergeMethod: r.params.merge_method ?? "squash"
    })),
    problems,
    fromFile: true
  }
}

/** Where reactions are read from: the original's path first, then spec-orch's state directory. */
export const reactionFiles = (root: string, stateDir: string, path: Path.Path): ReadonlyArray<string> => [
  path.join(root, ".spec_orch", "reactions.yaml"),
  path.join(stateDir, "reactions.yaml")
]

/** The project's reaction rules (the defaults when no file exists); problems are logged with their location. */
export const loadReactions = Effect.fnUntraced(function* () {
  const project = yield* Project
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  for (const file of reactionFiles(project.root, project.stateDir, path)) {
    if (!(yield* fs.exists(file).pipe(Effect.orElseSucceed(() => false)))) continue
    const text = yield* fs.readFileString(file).pipe(Effect.orElseSucceed(() => ""))
    const parsed = parseReactions(text, path.relative(project.root, file))
    for (const p of parsed.problems)
      yield* Effect.logWarning(`${formatProblem(p)}${parsed.fromFile ? "" : " (using the default reactions)"}`)
    return parsed
  }
  return { rules: DEFAULT_REACTIONS, problems: [] as ReadonlyArray<FileProblem>, fromFile: false }
})
