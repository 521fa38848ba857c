/**
 * The `spec-orch.toml` format: every section the original spec-orch reads, loaded unchanged, plus
 * spec-orch's own additions (`[gate]`, `[workspace]`, `[sandbox]`, more `[builder]` and `[daemon]` keys). Keys
 * keep their snake_case file names in the typed value, so the code and the file read alike.
 * Every default is written here, once; `docs/configuration.md` documents them.
 */
import { z } from "zod"

const argv = z.array(z.string())
/** A command: an argv list (no shell) or a string run with `sh -c`. */
export const CommandSpec = z.union([argv, z.string()])
const strings = z.array(z.string())

/** A step written as a table. */
const VerificationTable = z.object({
  command: CommandSpec,
  timeout_seconds: z.number().positive().optional(),
  /** The step may change files in the worktree (a formatter); otherwise a step that does fails. */
  may_modify: z.boolean().optional()
})
const VerificationEntry = z.union([CommandSpec, VerificationTable])
/** `[verification.env]`: variables every step gets (a table, not a step). */
const VerificationEnv = z.record(z.string(), z.string())

const ModelFallback = z.union([
  z.string(),
  z.object({ ref: z.string() }),
  z.object({
    model: z.string(),
    api_type: z.string().optional(),
    api_key_env: z.string().optional(),
    api_base_env: z.string().optional()
  })
])

/** Keys shared by every LLM role section (planner, reviewer, supervisor, acceptance_evaluator). */
const roleModelKeys = {
  model: z.string().optional(),
  api_type: z.string().optional(),
  api_key_env: z.string().optional(),
  api_base_env: z.string().optional(),
  token_command: z.string().optional(),
  model_ref: z.string().optional(),
  model_chain: z.string().optional(),
  fallbacks: z.array(ModelFallback).optional(),
  temperature: z.number().optional(),
  max_tokens: z.number().int().positive().optional()
}

const EvolverSection = z.object({ enabled: z.boolean().optional(), dry_run: z.boolean().optional() })
const EvolutionPolicy = z.object({
  enabled: z.boolean().optional(),
  min_runs: z.number().int().nonnegative().optional(),
  trigger_on: z
    .enum(["run_count", "pass_rate_drop", "deviation_spike", "new_failure_pattern", "trajectory_available"])
    .optional(),
  threshold: z.number().optional()
})

/** GitHub's `author_association` values (how an issue's author relates to the repository). */
export const GITHUB_AUTHOR_ASSOCIATIONS = [
  "OWNER",
  "MEMBER",
  "COLLABORATOR",
  "CONTRIBUTOR",
  "FIRST_TIME_CONTRIBUTOR",
  "FIRST_TIMER",
  "MANNEQUIN",
  "NONE"
] as const

/** Who may dispatch work from GitHub when `[github] allowed_associations` is not set: people with a role in the repository. */
export const DEFAULT_ALLOWED_ASSOCIATIONS: ReadonlyArray<(typeof GITHUB_AUTHOR_ASSOCIATIONS)[number]> = [
  "OWNER",
  "MEMBER",
  "COLLABORATOR"
]

const association = z.preprocess(
  (v) => (typeof v === "string" ? v.trim().toUpperCase() : v),
  z.enum(GITHUB_AUTHOR_ASSOCIATIONS)
)

/** Builder adapters spec-orch knows, plus the original's names accepted as aliases. */
export const BUILDER_ADAPTERS = [
  "claude_code",
  "codex",
  "codex_exec",
  "opencode",
  "droid",
  "acp",
  "acpx",
  "command"
] as const

/** How strictly agent turns and verification steps are confined (`[sandbox] mode`). */
export const SANDBOX_MODES = ["required", "best-effort", "off"] as const

/** A host name the sandbox's proxy may allow: `api.example.com`, `*.example.com` (subdomains only) or an IPv4 address. */
export const HOST_PATTERN =
  /^(?:\*\.)?[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/

/** The events `[notify]` webhooks can receive. */
export const NOTIFY_EVENTS = ["blocked-on-human", "dead-letter", "mission-finished", "budget-exceeded"] as const

/** How a `[notify]` webhook's body is shaped. */
export const NOTIFY_KINDS = ["generic", "slack"] as const

export const ConfigFile = z.object({
  issue: z
    .object({
      /** `fixture`, `linear` or `github`. */
      source: z.string().default("fixture"),
      fixtures_dir: z.string().default("fixtures/issues")
    })
    .prefault({}),

  /**
   * Ordered verification steps: name → argv list, shell string, or `{ command, timeout_seconds }`.
   * The one key that is not a step: `env`, a table of variables every step gets.
   */
  verification: z
    .record(z.string(), z.union([VerificationEntry, VerificationEnv]))
    .superRefine((table, ctx) => {
      for (const [name, entry] of Object.entries(table)) {
        const isEnv = typeof entry === "object" && !Array.isArray(entry) && !("command" in entry)
        if (name === "env" && !isEnv)
          ctx.addIssue({
            code: "custom",
            path: ["env"],
            message:
              '`env` holds variables for every step: write it as a table, `[verification.env]` with NAME = "value" lines'
          })
        if (name !== "env" && isEnv)
          ctx.addIssue({
            code: "custom",
            path: [name],
            message: `step "${name}" needs a command: an argv list, a shell string, or { command = …, timeout_seconds = … }`
          })
        // A step table whose other keys are strings also fits the `env` shape: check it as a step.
        if (name !== "env" && !isEnv && typeof entry === "object" && !Array.isArray(entry)) {
          const step = VerificationTable.safeParse(entry)
          if (!step.success)
            for (const issue of step.error.issues) ctx.addIssue({ ...issue, path: [name, ...issue.path] } as never)
        }
      }
    })
    .default({}),

  builder: z
    .object({
      adapter: z.string().default("codex"),
      /** For `acp`/`acpx`: which agent (`claude-code`, `codex`, `opencode`, or a command line). */
      agent: z.string().optional(),
      executable: z.string().optional(),
      codex_executable: z.string().optional(),
      model: z.string().optional(),
      timeout_seconds: z.number().positive().default(1800),
      /** No agent event for this long ends the turn as `stalled`. */
      stall_timeout_seconds: z.number().positive().default(300),
      permissions: z.string().default("full-auto"),
      permission_mode: z.string().default("acceptEdits"),
      allowed_tools: strings.default(["Bash", "Read", "Write", "Edit", "Glob", "Grep"]),
      sandbox: z.string().default("workspace-write"),
      autonomy: z.enum(["low", "medium", "high"]).default("low"),
      /** For the `command` adapter: what to run in the worktree (the prompt arrives on stdin). */
      command: CommandSpec.optional(),
      args: strings.default([]),
      env: z.record(z.string(), z.string()).default({}),
      /** Extra environment variable names never passed to the agent. */
      secret_env: strings.default([]),
      session_name: z.string().optional(),
      acpx_package: z.string().optional(),
      startup_timeout_seconds: z.number().positive().default(30),
      idle_progress_timeout_seconds: z.number().positive().optional(),
      completion_quiet_period_seconds: z.number().nonnegative().optional(),
      max_retries: z.number().int().nonnegative().default(1),
      max_turns_per_session: z.number().int().positive().optional(),
      max_session_age_seconds: z.number().positive().optional(),
      max_cost_usd: z.number().positive().optional(),
      max_tokens: z.number().int().positive().optional(),
      /** The builder prompt's size cap; the trusted sections are never cut to meet it. */
      max_prompt_tokens: z.number().int().positive().default(24000),
      /** The cap on any one section of untrusted text (the issue body, notes, spec, feedback). */
      max_untrusted_section_tokens: z.number().int().positive().default(12000)
    })
    .prefault({}),

  reviewer: z
    .object({
      adapter: z.string().default("local"),
      ...roleModelKeys,
      max_diff_chars: z.number().int().positive().default(60000),
      max_spec_chars: z.number().int().positive().default(10000),
      /** A diff over max_diff_chars is split by file into parts reviewed in separate model calls, at most this many. */
      max_diff_parts: z.number().int().positive().default(8)
    })
    .prefault({}),

  planner: z.object({ ...roleModelKeys }).prefault({}),

  supervisor: z
    .object({
      adapter: z.string().default("litellm"),
      ...roleModelKeys,
      max_rounds: z.number().int().positive().default(20),
      visual_evaluator: z
        .object({
          adapter: z.string().optional(),
          command: CommandSpec.optional(),
          timeout_seconds: z.number().positive().optional()
        })
        .optional()
    })
    .prefault({}),

  acceptance_evaluator: z
    .object({
      adapter: z.string().default("litellm"),
      ...roleModelKeys,
      auto_file_issues: z.boolean().default(false),
      min_confidence: z.number().min(0).max(1).default(0.8),
      min_severity: z.string().default("high")
    })
    .prefault({}),

  llm: z
    .object({
      default_model_chain: z.string().optional(),
      default_model_ref: z.string().optional(),
      /** The bound on one call of a role's model chain, retries, fallbacks and repair included (default 300 s). */
      role_timeout_seconds: z.number().positive().optional()
    })
    .prefault({}),

  models: z
    .record(
      z.string(),
      z.object({
        model: z.string(),
        api_type: z.string().default("anthropic"),
        api_key_env: z.string().optional(),
        api_base_env: z.string().optional(),
        /** A base URL written directly (spec-orch addition); `api_base_env` wins when set. */
        api_base: z.string().optional(),
        max_tokens: z.number().int().positive().optional(),
        timeout_seconds: z.number().positive().optional(),
        /** Time for the provider to start answering (the response's status and headers); default 60 s. */
        first_byte_timeout_seconds: z.number().positive().optional(),
        /** USD per million input / output tokens, for cost accounting. */
        input_usd_per_mtok: z.number().nonnegative().optional(),
        output_usd_per_mtok: z.number().nonnegative().optional()
      })
    )
    .default({}),

  model_chains: z
    .record(
      z.string(),
      z.object({
        primary: z.string(),
        fallbacks: z.array(z.union([z.string(), z.object({ ref: z.string() })])).default([])
      })
    )
    .default({}),

  github: z
    .object({
      base_branch: z.string().default("main"),
      /** `owner/name`; read from the `origin` remote when absent. */
      repo: z.string().optional(),
      token_env: z.string().default("GITHUB_TOKEN"),
      api_url: z.string().default("https://api.github.com"),
      remote: z.string().default("origin"),
      labels: strings.default([]),
      state: z.enum(["open", "closed", "all"]).default("open"),
      /** Daemon intake: authors with one of these `author_association`s may dispatch work. */
      allowed_associations: z.array(association).default([...DEFAULT_ALLOWED_ASSOCIATIONS]),
      /** Daemon intake: these logins may dispatch work. */
      allowed_users: strings.default([]),
      /** Daemon intake: members of these teams (`team-slug` of the repository's owner, or `org/team-slug`) may dispatch work. */
      allowed_teams: strings.default([]),
      /** Daemon intake: an issue carrying one of these labels may be dispatched, whoever filed it. */
      allowed_labels: strings.default([])
    })
    .prefault({}),

  linear: z
    .object({
      token_env: z.string().default("SPEC_ORCH_LINEAR_TOKEN"),
      team_key: z.string().default("SPC"),
      poll_interval_seconds: z.number().positive().default(60),
      issue_filter: z.string().optional(),
      api_url: z.string().default("https://api.linear.app/graphql"),
      in_progress_state: z.string().default("In Progress"),
      in_review_state: z.string().default("In Review"),
      done_state: z.string().default("Done"),
      /** Daemon intake: issues of these teams created by a member (not a guest, app or integration); default `[team_key]`. */
      allowed_teams: strings.optional(),
      /** Daemon intake: issues created by these users (email or user id) may be dispatched. */
      allowed_creators: strings.default([]),
      /** Daemon intake: an issue carrying one of these labels may be dispatched, whoever created it. */
      allowed_labels: strings.default([])
    })
    .prefault({}),

  daemon: z
    .object({
      max_concurrent: z.number().int().positive().default(1),
      live_mission_workers: z.boolean().default(false),
      lockfile_dir: z.string().default(".spec_orch_locks/"),
      consume_state: z.string().default("Ready"),
      require_labels: strings.default([]),
      exclude_labels: strings.default(["blocked", "needs-clarification"]),
      skip_parents: z.boolean().default(true),
      max_retries: z.number().int().nonnegative().default(3),
      retry_base_delay_seconds: z.number().nonnegative().default(60),
      hotfix_labels: strings.default(["hotfix", "urgent", "P0"]),
      drain_batch_size: z.number().int().positive().default(5),
      poll_interval_seconds: z.number().positive().optional(),
      /** Tracker requests allowed per minute across polling and publishing. */
      request_budget_per_minute: z.number().int().positive().default(120),
      lease_seconds: z.number().positive().default(300),
      webhook_port: z.number().int().nonnegative().optional(),
      webhook_secret_env: z.string().optional(),
      gate_profile: z.string().default("daemon"),
      /** The bound on the readiness (triage) model call, retries and fallbacks included; past it the rules decide alone. */
      triage_timeout_seconds: z.number().positive().default(60),
      /** What the daemon publishes: every finished run ("always": blocked runs as draft pull requests), only mergeable ones, or nothing. */
      publish: z.enum(["never", "mergeable", "always"]).default("always"),
      /** Turns the intake allow-list off: anyone who can file an issue can make an agent run. */
      allow_anyone: z.boolean().default(false)
    })
    .prefault({}),

  /** Scale-out (docs/cluster.md): `sqlite` keeps one daemon per state database; `postgres` makes every `daemon start` a runner of one cluster. */
  cluster: z
    .object({
      /** Where the cluster keeps its shards, messages and runners: `sqlite` (one host, the default) or `postgres`. */
      storage: z.enum(["sqlite", "postgres"]).default("sqlite"),
      /** Environment variable holding the Postgres URL (`postgres://user:password@host:5432/db`); never written to the file. */
      url_env: z
        .string()
        .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: "must be an environment variable name such as SPEC_ORCH_PG_URL" })
        .default("SPEC_ORCH_PG_URL"),
      /** This host's runner address, `host:port`, reachable by the other runners. */
      runner_address: z
        .string()
        .regex(/^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?):(?:[1-9][0-9]{0,4})$/, {
          error: "must be host:port, such as 10.0.0.5:34431 or runner-1.internal:34431"
        })
        .refine((a) => Number(a.slice(a.lastIndexOf(":") + 1)) <= 65535, {
          error: "the port must be between 1 and 65535"
        })
        .optional(),
      /** Shard groups this runner serves (runs are sharded in `default`). */
      shard_groups: z
        .array(z.string().regex(/^[A-Za-z0-9_-]+$/, { error: "must be a shard group name (letters, digits, - and _)" }))
        .min(1, { error: 'name at least one shard group, e.g. ["default"]' })
        .default(["default"]),
      /** Agent turns at once on this host (a turn waits for a slot); default `[daemon] max_concurrent`. */
      max_concurrent_per_host: z.number().int().positive().optional(),
      /** Runs at once across the cluster (the daemon singleton's cap); default `[daemon] max_concurrent`. */
      max_concurrent_total: z.number().int().positive().optional(),
      /**
       * How long a runner's shard locks outlive it (seconds): a dead host's runs resume elsewhere after about
       * this long. Locks are refreshed every quarter of it.
       */
      shard_lock_expiry_seconds: z.number().int().min(4).max(600).default(35)
    })
    .superRefine((c, ctx) => {
      if (c.storage === "postgres" && c.runner_address === undefined)
        ctx.addIssue({
          code: "custom",
          path: ["runner_address"],
          message: 'storage = "postgres" needs this host\'s runner address, e.g. runner_address = "10.0.0.5:34431"'
        })
      if (
        c.max_concurrent_per_host !== undefined &&
        c.max_concurrent_total !== undefined &&
        c.max_concurrent_per_host > c.max_concurrent_total
      )
        ctx.addIssue({
          code: "custom",
          path: ["max_concurrent_per_host"],
          message: `is ${c.max_concurrent_per_host}, more than max_concurrent_total (${c.max_concurrent_total}): lower it or raise the total`
        })
    })
    .prefault({}),

  spec: z.object({ require_approval: z.boolean().default(true) }).prefault({}),

  /**
   * The preview check: a command run in the worktree after verification (like a verification step);
   * its result is the preview evidence the `preview` gate condition judges.
   */
  preview: z
    .object({
      command: CommandSpec.optional(),
      timeout_seconds: z.number().positive().default(600),
      /** Where the preview can be seen; shown with the verdict and in reports. */
      url: z.string().optional()
    })
    .prefault({}),

  memory: z
    .object({
      /** Record finished runs in the state database and give the builder what earlier runs showed (docs/memory.md). */
      enabled: z.boolean().default(true),
      provider: z.string().default("filesystem"),
      derivation_mode: z.enum(["sync", "async"]).default("sync"),
      /**
       * A `[models.<id>]` with an OpenAI-compatible api_type whose model makes embeddings: recall then
       * fuses vector and full-text rankings. Without it (the default) recall is full text alone.
       */
      embedding_model: z.string().optional(),
      /** How long recall waits for its query's embedding before answering from full text alone. */
      embedding_timeout_seconds: z.number().positive().default(2),
      /** The LLM role whose model chain writes `memory compact` summaries; deterministic summaries without it. */
      compaction_role: z.enum(["planner", "reviewer", "supervisor", "acceptance_evaluator"]).optional(),
      qdrant: z
        .object({
          mode: z.string().optional(),
          path: z.string().optional(),
          url: z.string().optional(),
          collection: z.string().optional(),
          embedding_model: z.string().optional()
        })
        .optional()
    })
    .prefault({}),

  evolution: z
    .object({
      enabled: z.boolean().default(true),
      trigger_after_n_runs: z.number().int().positive().default(5),
      auto_promote: z.boolean().default(false),
      policies: z.record(z.string(), EvolutionPolicy).default({})
    })
    .catchall(EvolverSection)
    .prefault({}),

  conversation: z
    .object({
      default_channel: z.string().optional(),
      slack: z.object({ bot_token_env: z.string().optional(), app_token_env: z.string().optional() }).optional(),
      linear: z.object({ watch_label: z.string().optional(), poll_interval_seconds: z.number().optional() }).optional()
    })
    .prefault({}),

  init: z.object({ detection_mode: z.enum(["llm", "rules"]).optional() }).prefault({}),

  dashboard: z
    .object({
      costs: z.object({ warning_usd: z.number().optional(), critical_usd: z.number().optional() }).optional()
    })
    .prefault({}),

  gate: z
    .object({
      /** Policy file, relative to the project root; the built-in policy is used when it does not exist. */
      policy: z.string().default("gate.policy.yaml"),
      /** Profile for interactive runs; the daemon uses `[daemon] gate_profile`. */
      profile: z.string().optional(),
      compliance: z.string().default("compliance.contracts.yaml")
    })
    .prefault({}),

  /** What a run publishes (push, pull request, commit status, tracker comment). Nothing leaves the machine unless asked. */
  publish: z
    .object({
      /** `spec-orch run`: "never" (default; `--publish` asks for one run), "mergeable" (runs the gate passes), "always" (blocked runs too, as draft pull requests). */
      runs: z.enum(["never", "mergeable", "always"]).default("never"),
      /** Open or update a pull request, with the gate as its commit status, when the branch was pushed and GitHub is configured. */
      pull_request: z.boolean().default(true),
      /** Comment the run's summary on the source issue (GitHub or Linear). */
      comment: z.boolean().default(true)
    })
    .prefault({}),

  /** Size caps on what agents and verification steps print: memory stays flat and artifacts bounded, whatever they write. */
  limits: z
    .object({
      /** Bytes kept of one line of agent output; beyond it the line is cut with a marker and not parsed. */
      output_line_bytes: z
        .number()
        .int()
        .positive()
        .default(1024 * 1024),
      /** Bytes kept in each of a turn's stream artifacts (agent.jsonl, events.jsonl, agent.stderr.log). */
      agent_output_bytes: z
        .number()
        .int()
        .positive()
        .default(64 * 1024 * 1024),
      /** Bytes kept of each verification step's log. */
      step_log_bytes: z
        .number()
        .int()
        .positive()
        .default(16 * 1024 * 1024)
    })
    .prefault({}),

  workspace: z
    .object({
      /** Where worktrees live; default `$XDG_CACHE_HOME/spec-orch/worktrees` (outside the repository). */
      root: z.string().optional(),
      /** Base for new run branches; default `[github] base_branch` if it exists locally, else HEAD. */
      base: z.string().optional(),
      /** Directory for state and run artifacts, relative to the project root. */
      state_dir: z.string().default(".spec-orch"),
      /** Give each new worktree the main checkout's installed dependencies (node_modules) when its lockfile is unchanged. */
      provision: z.boolean().default(true),
      /** Globs of ignored, generated files (e.g. `src/pkg/_version.py`) copied from the main checkout into each new worktree. */
      copy: strings.default([]),
      /** More ignored directories of the main checkout to symlink into each new worktree (e.g. `.venv`). */
      link: strings.default([]),
      /** Commands run once in a new worktree, before the agent (in the OS sandbox, like verification). */
      after_create: z.array(CommandSpec).default([]),
      /** Commands run in the worktree before each agent turn. */
      before_run: z.array(CommandSpec).default([]),
      /** Commands run in the worktree after each agent turn, before spec-orch commits (a code generator, a formatter). */
      after_run: z.array(CommandSpec).default([]),
      /** Commands run in the worktree before it is removed (`workspace remove`, `clean`); a failure is reported, the worktree still goes. */
      before_remove: z.array(CommandSpec).default([]),
      /** Each hook command is killed after this long (a run then stops with its log; a removal goes on and says so). */
      hook_timeout_seconds: z.number().positive().default(600)
    })
    .prefault({}),

  /** Traces of runs: always written to `<state_dir>/runs/<run-id>/trace.jsonl`; also sent to an OTLP collector when an endpoint is set. */
  telemetry: z
    .object({
      /** The collector's OTLP/HTTP address (`http://127.0.0.1:4318`, or the full `…/v1/traces` URL); default `OTEL_EXPORTER_OTLP_ENDPOINT`. */
      otlp_endpoint: z
        .string()
        .regex(/^https?:\/\/[^\s/]+/, { error: "must be an http:// or https:// URL such as http://127.0.0.1:4318" })
        .optional(),
      /** `service.name` of the exported spans. */
      service_name: z.string().min(1).default("spec-orch"),
      /** Request headers for the collector, each read from the named environment variable (e.g. `{ "x-honeycomb-team" = "HONEYCOMB_API_KEY" }`); the values are never written anywhere. */
      headers_env: z
        .record(
          z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, { error: "must be an HTTP header name" }),
          z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: "must be an environment variable name" })
        )
        .default({})
    })
    .prefault({}),

  /** Needs-attention notices (blocked on a person, dead letter, mission finished, budget exceeded) sent to webhooks. */
  notify: z
    .object({
      webhooks: z
        .array(
          z.object({
            /** Environment variable holding the webhook URL (a secret: never written to the file). */
            url_env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, {
              error: "must be an environment variable name such as SPEC_ORCH_SLACK_WEBHOOK (the URL itself is a secret)"
            }),
            /** `generic`: a JSON body with the event's fields; `slack`: a Slack incoming-webhook `{ text }`. */
            kind: z.enum(NOTIFY_KINDS).default("generic"),
            /** Which events go to this webhook; default every one. */
            events: z
              .array(z.enum(NOTIFY_EVENTS))
              .min(1, { error: 'name at least one event, e.g. ["dead-letter"], or leave `events` out for all' })
              .default([...NOTIFY_EVENTS])
          })
        )
        .default([])
    })
    .prefault({}),

  sandbox: z
    .object({
      /** `required` refuses to run where the OS sandbox cannot start; `best-effort` warns once and runs unconfined; `off` never confines. */
      mode: z.enum(SANDBOX_MODES).default("best-effort"),
      /** Extra paths made empty inside the box (`~/` is the user's home; relative paths are relative to the project). */
      hide: strings.default([]),
      /** Extra host names agents may reach through the sandbox's proxy (`api.example.com` or `*.example.com`). */
      allow_hosts: z
        .array(
          z.string().regex(HOST_PATTERN, {
            error: "must be a host name such as api.example.com or *.example.com (no scheme, port or path)"
          })
        )
        .default([]),
      /** Whether verification steps may use the network (the same hosts as agents); off by default. */
      verification_network: z.boolean().default(false),
      /** Extra paths writable inside every box (build caches such as `~/.gradle`); each is a way out of the box: keep it short. */
      writable: strings.default([])
    })
    .prefault({})
})

/** The typed, defaulted content of `spec-orch.toml`. */
export type SpecOrchConfig = z.output<typeof ConfigFile>

/** One configured verification step, as written in `[verification]` (the `env` table excluded). */
export interface ConfiguredStep {
  readonly name: string
  readonly command: string | ReadonlyArray<string>
  readonly timeoutSeconds?: number
  readonly mayModify?: boolean
}

/** The `[verification]` steps in file order, without the `env` table. */
export const configuredSteps = (verification: SpecOrchConfig["verification"]): Array<ConfiguredStep> => {
  const out: Array<ConfiguredStep> = []
  for (const [name, entry] of Object.entries(verification)) {
    if (name === "env") continue
    if (typeof entry === "string" || Array.isArray(entry)) out.push({ name, command: entry })
    else if ("command" in entry && entry.command !== undefined) {
      const e = entry as {
        readonly command: string | ReadonlyArray<string>
        readonly timeout_seconds?: number | undefined
        readonly may_modify?: boolean | undefined
      }
      out.push({
        name,
        command: e.command,
        ...(e.timeout_seconds !== undefined ? { timeoutSeconds: e.timeout_seconds } : {}),
        ...(e.may_modify !== undefined ? { mayModify: e.may_modify } : {})
      })
    }
  }
  return out
}

/** `[verification.env]`: the variables every verification step gets (none when absent). */
export const verificationEnv = (verification: SpecOrchConfig["verification"]): Readonly<Record<string, string>> => {
  const env = verification.env
  return env !== undefined && typeof env === "object" && !Array.isArray(env) && !("command" in env)
    ? (env as Record<string, string>)
    : {}
}
