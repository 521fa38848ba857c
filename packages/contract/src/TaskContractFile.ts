/**
 * Task contract files, as `spec-orch contract generate|validate|assess-risk` write and read them: the
 * original spec-orch's YAML keys (`contract_id`, `issue_id`, `intent`, `risk_level`, `allowed_paths`,
 * `forbidden_paths`, `completion_criteria`, `verification_commands`, `boundaries`, `risk_notes`), so its
 * contracts validate here, plus `scope`, `files_to_read` and `target_files`. The risk assessment is
 * deterministic: the same issue always gets the same level and reasons.
 */
import { parseDocument, stringify } from "yaml"
import * as z from "zod/mini"
import { configuredSteps, CommandSpec, type SpecOrchConfig } from "./ConfigFile.js"
import { FileProblem } from "./FileProblem.js"
import { yamlLocator } from "./Locations.js"
import { validateWith } from "./Validation.js"
import type { Issue } from "./Issue.js"
import type { RiskLevel } from "./TaskContract.js"

const RISK_LEVELS = ["low", "medium", "high", "critical"] as const

/** The schema of a task contract file. */
export const TaskContractYaml = z.object({
  contract_id: z.string().check(z.minLength(1)),
  issue_id: z.string().check(z.regex(/^[A-Za-z0-9_-]+$/, "an issue id is letters, digits, - and _")),
  intent: z.string().check(z.minLength(1)),
  scope: z.optional(z.string()),
  risk_level: z.enum(RISK_LEVELS),
  allowed_paths: z._default(z.array(z.string()), []),
  forbidden_paths: z._default(z.array(z.string()), []),
  files_to_read: z.optional(z.array(z.string())),
  target_files: z.optional(z.array(z.string())),
  completion_criteria: z
    .array(z.string().check(z.minLength(1)))
    .check(z.minLength(1, 'needs at least one completion criterion (what "done" means)')),
  verification_commands: z._default(z.record(z.string(), CommandSpec), {}),
  boundaries: z._default(z.array(z.string()), []),
  risk_notes: z._default(z.array(z.string()), [])
})
export type TaskContractYaml = z.output<typeof TaskContractYaml>

/** One reason a change is risky, with the level it alone implies. */
export interface RiskReason {
  readonly level: RiskLevel
  readonly reason: string
  readonly paths?: ReadonlyArray<string>
}

/** An issue's risk: the highest level any reason implies (low with no reason). */
export interface RiskAssessment {
  readonly issueId: string
  readonly level: RiskLevel
  readonly reasons: ReadonlyArray<RiskReason>
}

/** Path rules: what a touched path says about risk. Checked in this order. */
const PATH_RULES: ReadonlyArray<{ readonly level: RiskLevel; readonly what: string; readonly test: RegExp }> = [
  {
    level: "critical",
    what: "secrets or environment files",
    test: /(^|\/)(\.env(\..*)?|.*\.pem|.*\.key|id_rsa.*|secrets?\.(ya?ml|json|toml))$/i
  },
  {
    level: "high",
    what: "database migrations or schema",
    test: /(^|\/)(migrations?|migrate|alembic|prisma)(\/|$)|\.sql$|(^|\/)schema\.(prisma|rb|sql)$/i
  },
  {
    level: "high",
    what: "authentication or authorization code",
    test: /(^|\/|[_.-])(auth|oauth|login|session|permissions?|crypto|password|tokens?|security)([_./-]|$)/i
  },
  {
    level: "high",
    what: "CI configuration",
    test: /(^|\/)(\.github\/workflows\/|\.gitlab-ci\.yml$|\.circleci\/|Jenkinsfile$|azure-pipelines\.yml$|\.buildkite\/)/
  },
  {
    level: "medium",
    what: "deployment or infrastructure",
    test: /(^|\/)(Dockerfile[^/]*|docker-compose[^/]*\.ya?ml|[^/]*\.tf|k8s\/.*|helm\/.*|charts\/.*)$/i
  },
  {
    level: "medium",
    what: "dependency manifests or lockfiles",
    test: /(^|\/)(package\.json|pnpm-lock\.yaml|package-lock\.json|yarn\.lock|requirements[^/]*\.txt|pyproject\.toml|poetry\.lock|uv\.lock|go\.(mod|sum)|Cargo\.(toml|lock)|Gemfile(\.lock)?)$/
  }
]

/** Words in the issue's text that signal risk whatever the paths. */
const TEXT_RULES: ReadonlyArray<{ readonly level: RiskLevel; readonly what: string; readonly test: RegExp }> = [
  {
    level: "high",
    what: "a data migration or destructive data change",
    test: /\b(migrat(e|ion|ions)|drop (table|column|database)|delete (all|user|customer) data|backfill)\b/i
  },
  {
    level: "high",
    what: "security-sensitive work",
    test: /\b(auth(entication|orization)?|security|credential|secret|encrypt(ion)?|permissions?)\b/i
  },
  {
    level: "medium",
    what: "a new or upgraded dependency",
    test: /\b(add|upgrade|bump|new) (a |the )?(dependenc(y|ies)|package|library)\b/i
  }
]

const rank = (l: RiskLevel) => RISK_LEVELS.indexOf(l)

/** Assesses an issue's risk from its declared scope, the paths it touches and its text. */
export const assessRisk = (issue: Issue): RiskAssessment => {
  const reasons: Array<RiskReason> = []
  const paths = [...new Set([...issue.targetFiles, ...issue.filesToRead])]
  for (const rule of PATH_RULES) {
    const hit = paths.filter((p) => rule.test.test(p))
    if (hit.length > 0) reasons.push({ level: rule.level, reason: `touches ${rule.what}`, paths: hit })
  }
  const text = `${issue.title}\n${issue.summary}\n${issue.builderPrompt ?? ""}`
  const constraintsText = issue.constraints.join("\n")
  for (const rule of TEXT_RULES) {
    const m = rule.test.exec(text)
    // "No new dependencies" in the constraints forbids the risk rather than asking for it.
    if (m && !(rule.what.includes("dependency") && /\bno new dependenc/i.test(constraintsText)))
      reasons.push({ level: rule.level, reason: `the issue mentions ${rule.what} ("${m[0]}")` })
  }
  const targets = issue.targetFiles.length
  if (paths.length === 0)
    reasons.push({
      level: "medium",
      reason: "no files declared (files_to_read, target_files): the scope is not bounded"
    })
  else if (targets > 15) reasons.push({ level: "high", reason: `a large change: ${targets} target files (over 15)` })
  else if (targets > 5) reasons.push({ level: "medium", reason: `a sizeable change: ${targets} target files (over 5)` })
  if (issue.acceptanceCriteria.length === 0)
    reasons.push({ level: "medium", reason: 'no acceptance criteria: nothing says what "done" means' })
  else if (issue.acceptanceCriteria.length > 8)
    reasons.push({
      level: "medium",
      reason: `${issue.acceptanceCriteria.length} acceptance criteria (over 8): consider splitting the issue`
    })
  if (issue.runClass === "hotfix")
    reasons.push({ level: "medium", reason: "run class hotfix: changes land under time pressure" })
  const level = reasons.reduce<RiskLevel>((max, r) => (rank(r.level) > rank(max) ? r.level : max), "low")
  return { issueId: issue.id, level, reasons: [...reasons].sort((a, b) => rank(b.level) - rank(a.level)) }
}

/** A task contract for an issue: its scope, files, acceptance, verification (the issue's, else `[verification]`) and risk. */
export const generateTaskContract = (issue: Issue, config: SpecOrchConfig): TaskContractYaml => {
  const risk = assessRisk(issue)
  const steps = issue.verification ?? configuredSteps(config.verification)
  return {
    contract_id: `contract-${issue.id}`,
    issue_id: issue.id,
    intent: issue.title,
    scope: issue.summary,
    risk_level: risk.level,
    allowed_paths: [...new Set([...issue.targetFiles, ...issue.filesToRead])],
    forbidden_paths: [],
    files_to_read: [...issue.filesToRead],
    target_files: [...issue.targetFiles],
    completion_criteria: issue.acceptanceCriteria.map((c) => c.text),
    verification_commands: Object.fromEntries(
      steps.map((s) => [s.name, typeof s.command === "string" ? s.command : [...s.command]])
    ),
    boundaries: [...issue.constraints],
    risk_notes: risk.reasons.map((r) => `${r.level}: ${r.reason}${r.paths ? ` (${r.paths.join(", ")})` : ""}`)
  }
}

/** The contract as YAML, with a header saying where it came from. */
export const taskContractToYaml = (contract: TaskContractYaml): string =>
  `# Task contract for ${contract.issue_id}, written by \`spec-orch contract generate\`.\n# Check it with \`spec-orch contract validate <file>\`.\n` +
  stringify(contract, { lineWidth: 0 })

/** Parses and validates a task contract file; problems name the file, line and key. */
export const loadTaskContract = (
  text: string,
  file: string
): { readonly contract?: TaskContractYaml; readonly problems: ReadonlyArray<FileProblem> } => {
  const doc = parseDocument(text)
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!
    return {
      problems: [
        new FileProblem({
          file,
          ...(e.linePos?.[0] ? { line: e.linePos[0].line, column: e.linePos[0].col } : {}),
          key: "",
          severity: "error",
          message: `not valid YAML: ${e.message.split("\n")[0]}`
        })
      ]
    }
  }
  const raw = doc.toJS() ?? null
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    return {
      problems: [
        new FileProblem({
          file,
          key: "",
          severity: "error",
          message: "expected a table of contract keys (contract_id, issue_id, intent, …)",
          hint: "write one with `spec-orch contract generate <issue>`"
        })
      ]
    }
  }
  const { value, problems } = validateWith(TaskContractYaml, raw, file, yamlLocator(text))
  return value === undefined || problems.some((p) => p.severity === "error")
    ? { problems }
    : { contract: value, problems }
}
