/**
 * The `spec-orch.toml` format: every section the original spec-orch reads, loaded unchanged, plus
 * spec-orch's own additions (`[gate]`, `[workspace]`, `[sandbox]`, more `[builder]` and `[daemon]` keys). Keys
 * keep their snake_case file names in the typed value, so the code and the file read alike.
 * Every default is written here, once; `docs/configuration.md` documents them.
 */
import * as z from "zod/mini"

// Leaf schemas are built once and shared: a zod schema is immutable, and one built per field (0.5 to
// 4.5 KB each, kept for the life of the process) made this module hold about 720 KB; shared, about 480 KB.
const aString = z.string()
const aBoolean = z.boolean()
const optionalString = z.optional(aString)
const optionalBoolean = z.optional(aBoolean)
const optionalNumber = z.optional(z.number())
const positive = z.number().check(z.positive())
const positiveInt = z.number().check(z.int(), z.positive())
const nonNegative = z.number().check(z.nonnegative())
const nonNegativeInt = z.number().check(z.int(), z.nonnegative())
const optionalPositive = z.optional(positive)
const optionalPositiveInt = z.optional(positiveInt)
const optionalNonNegative = z.optional(nonNegative)

const argv = z.array(aString)
/** A command: an argv list (no shell) or a string run with `sh -c`. */
export const CommandSpec = z.union([argv, aString])
const strings = z.array(aString)

/** A step written as a table. */
const VerificationTable = z.object({
  command: CommandSpec,
  timeout_seconds: optionalPositive,
  /** The step may change files in the worktree (a formatter); otherwise a step that does fails. */
  may_modify: optionalBoolean
})
const VerificationEntry = z.union([CommandSpec, VerificationTable])
/** `[verification.env]`: variables every step gets (a table, not a step). */
const VerificationEnv = z.record(aString, aString)

const ModelFallback = z.union([
  aString,
  z.object({ ref: aString }),
  z.object({
    model: aString,
    api_type: optionalString,
    api_key_env: optionalString,
    api_base_env: optionalString
  })
])

/** Keys shared by every LLM role section (planner, reviewer, supervisor, acceptance_evaluator). */
const roleModelKeys = {
  model: optionalString,
  api_type: optionalString,
  api_key_env: optionalString,
  api_base_env: optionalString,
  token_command: optionalString,
  model_ref: optionalString,
  model_chain: optionalString,
  fallbacks: z.optional(z.array(ModelFallback)),
  temperature: optionalNumber,
  max_tokens: optionalPositiveInt
}

const EvolverSection = z.object({ enabled: optionalBoolean, dry_run: optionalBoolean })
const EvolutionPolicy = z.object({
  enabled: optionalBoolean,
  min_runs: z.optional(nonNegativeInt),
  trigger_on: z.optional(
    z.enum(["run_count", "pass_rate_drop", "deviation_spike", "new_failure_pattern", "trajectory_available"])
  ),
  threshold: optionalNumber
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

const association = z.pipe(
  z.transform((v) => (typeof v === "string" ? v.trim().toUpperCase() : v)),
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

// Each section of spec-orch.toml, as a function that builds its schema: a read command builds only the
// sections it reads (sectionSchema below), not all 28.
const SECTIONS = {
  issue: () =>
    z.prefault(
      z.object({
        /** `fixture`, `linear` or `github`. */
        source: z._default(aString, "fixture"),
        fixtures_dir: z._default(aString, "fixtures/issues")
      }),
      {}
    ),

  /**
   * Ordered verification steps: name → argv list, shell string, or `{ command, timeout_seconds }`.
   * The one key that is not a step: `env`, a table of variables every step gets.
   */
  verification: () =>
    z._default(
      z.record(aString, z.union([VerificationEntry, VerificationEnv])).check(
        z.superRefine((table, ctx) => {
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
      ),
      {}
    ),

  builder: () =>
    z.prefault(
      z.object({
        adapter: z._default(aString, "codex"),
        /** For `acp`/`acpx`: which agent (`claude-code`, `codex`, `opencode`, or a command line). */
        agent: optionalString,
        executable: optionalString,
        codex_executable: optionalString,
        model: optionalString,
        timeout_seconds: z._default(positive, 1800),
        /** No agent event for this long ends the turn as `stalled`. */
        stall_timeout_seconds: z._default(positive, 300),
        permissions: z._default(aString, "full-auto"),
        permission_mode: z._default(aString, "acceptEdits"),
        allowed_tools: z._default(strings, ["Bash", "Read", "Write", "Edit", "Glob", "Grep"]),
        sandbox: z._default(aString, "workspace-write"),
        autonomy: z._default(z.enum(["low", "medium", "high"]), "low"),
        /** For the `command` adapter: what to run in the worktree (the prompt arrives on stdin). */
        command: z.optional(CommandSpec),
        args: z._default(strings, []),
        env: z._default(z.record(aString, aString), {}),
        /** Extra environment variable names never passed to the agent. */
        secret_env: z._default(strings, []),
        session_name: optionalString,
        acpx_package: optionalString,
        startup_timeout_seconds: z._default(positive, 30),
        idle_progress_timeout_seconds: optionalPositive,
        completion_quiet_period_seconds: optionalNonNegative,
        max_retries: z._default(nonNegativeInt, 1),
        max_turns_per_session: optionalPositiveInt,
        max_session_age_seconds: optionalPositive,
        max_cost_usd: optionalPositive,
        max_tokens: optionalPositiveInt,
        /** The builder prompt's size cap; the trusted sections are never cut to meet it. */
        max_prompt_tokens: z._default(positiveInt, 24000),
        /** The cap on any one section of untrusted text (the issue body, notes, spec, feedback). */
        max_untrusted_section_tokens: z._default(positiveInt, 12000)
      }),
      {}
    ),

  reviewer: () =>
    z.prefault(
      z.object({
        adapter: z._default(aString, "local"),
        ...roleModelKeys,
        max_diff_chars: z._default(positiveInt, 60000),
        max_spec_chars: z._default(positiveInt, 10000),
        /** A diff over max_diff_chars is split by file into parts reviewed in separate model calls, at most this many. */
        max_diff_parts: z._default(positiveInt, 8)
      }),
      {}
    ),

  planner: () => z.prefault(z.object({ ...roleModelKeys }), {}),

  supervisor: () =>
    z.prefault(
      z.object({
        adapter: z._default(aString, "litellm"),
        ...roleModelKeys,
        max_rounds: z._default(positiveInt, 20),
        visual_evaluator: z.optional(
          z.object({
            adapter: optionalString,
            command: z.optional(CommandSpec),
            timeout_seconds: optionalPositive
          })
        )
      }),
      {}
    ),

  acceptance_evaluator: () =>
    z.prefault(
      z.object({
        adapter: z._default(aString, "litellm"),
        ...roleModelKeys,
        auto_file_issues: z._default(aBoolean, false),
        min_confidence: z._default(z.number().check(z.gte(0)).check(z.lte(1)), 0.8),
        min_severity: z._default(aString, "high")
      }),
      {}
    ),

  llm: () =>
    z.prefault(
      z.object({
        default_model_chain: optionalString,
        default_model_ref: optionalString,
        /** The bound on one call of a role's model chain, retries, fallbacks and repair included (default 300 s). */
        role_timeout_seconds: optionalPositive
      }),
      {}
    ),

  models: () =>
    z._default(
      z.record(
        aString,
        z.object({
          model: aString,
          api_type: z._default(aString, "anthropic"),
          api_key_env: optionalString,
          api_base_env: optionalString,
          /** A base URL written directly (spec-orch addition); `api_base_env` wins when set. */
          api_base: optionalString,
          max_tokens: optionalPositiveInt,
          timeout_seconds: optionalPositive,
          /** Time for the provider to start answering (the response's status and headers); default 60 s. */
          first_byte_timeout_seconds: optionalPositive,
          /** USD per million input / output tokens, for cost accounting. */
          input_usd_per_mtok: optionalNonNegative,
          output_usd_per_mtok: optionalNonNegative
        })
      ),
      {}
    ),

  model_chains: () =>
    z._default(
      z.record(
        aString,
        z.object({
          primary: aString,
          fallbacks: z._default(z.array(z.union([aString, z.object({ ref: aString })])), [])
        })
      ),
      {}
    ),

  github: () =>
    z.prefault(
      z.object({
        base_branch: z._default(aString, "main"),
        /** `owner/name`; read from the `origin` remote when absent. */
        repo: optionalString,
        token_env: z._default(aString, "GITHUB_TOKEN"),
        api_url: z._default(aString, "https://api.github.com"),
        remote: z._default(aString, "origin"),
        labels: z._default(strings, []),
        state: z._default(z.enum(["open", "closed", "all"]), "open"),
        /** Daemon intake: authors with one of these `author_association`s may dispatch work. */
        allowed_associations: z._default(z.array(association), [...DEFAULT_ALLOWED_ASSOCIATIONS]),
        /** Daemon intake: these logins may dispatch work. */
        allowed_users: z._default(strings, []),
        /** Daemon intake: members of these teams (`team-slug` of the repository's owner, or `org/team-slug`) may dispatch work. */
        allowed_teams: z._default(strings, []),
        /** Daemon intake: an issue carrying one of these labels may be dispatched, whoever filed it. */
        allowed_labels: z._default(strings, [])
      }),
      {}
    ),

  linear: () =>
    z.prefault(
      z.object({
        token_env: z._default(aString, "SPEC_ORCH_LINEAR_TOKEN"),
        team_key: z._default(aString, "SPC"),
        poll_interval_seconds: z._default(positive, 60),
        issue_filter: optionalString,
        api_url: z._default(aString, "https://api.linear.app/graphql"),
        in_progress_state: z._default(aString, "In Progress"),
        in_review_state: z._default(aString, "In Review"),
        done_state: z._default(aString, "Done"),
        /** Daemon intake: issues of these teams created by a member (not a guest, app or integration); default `[team_key]`. */
        allowed_teams: z.optional(strings),
        /** Daemon intake: issues created by these users (email or user id) may be dispatched. */
        allowed_creators: z._default(strings, []),
        /** Daemon intake: an issue carrying one of these labels may be dispatched, whoever created it. */
        allowed_labels: z._default(strings, [])
      }),
      {}
    ),

  daemon: () =>
    z.prefault(
      z.object({
        max_concurrent: z._default(positiveInt, 1),
        live_mission_workers: z._default(aBoolean, false),
        lockfile_dir: z._default(aString, ".spec_orch_locks/"),
        consume_state: z._default(aString, "Ready"),
        require_labels: z._default(strings, []),
        exclude_labels: z._default(strings, ["blocked", "needs-clarification"]),
        skip_parents: z._default(aBoolean, true),
        max_retries: z._default(nonNegativeInt, 3),
        retry_base_delay_seconds: z._default(nonNegative, 60),
        hotfix_labels: z._default(strings, ["hotfix", "urgent", "P0"]),
        drain_batch_size: z._default(positiveInt, 5),
        poll_interval_seconds: optionalPositive,
        /** Tracker requests allowed per minute across polling and publishing. */
        request_budget_per_minute: z._default(positiveInt, 120),
        lease_seconds: z._default(positive, 300),
        webhook_port: z.optional(nonNegativeInt),
        webhook_secret_env: optionalString,
        gate_profile: z._default(aString, "daemon"),
        /** The bound on the readiness (triage) model call, retries and fallbacks included; past it the rules decide alone. */
        triage_timeout_seconds: z._default(positive, 60),
        /** What the daemon publishes: every finished run ("always": blocked runs as draft pull requests), only mergeable ones, or nothing. */
        publish: z._default(z.enum(["never", "mergeable", "always"]), "always"),
        /** Turns the intake allow-list off: anyone who can file an issue can make an agent run. */
        allow_anyone: z._default(aBoolean, false)
      }),
      {}
    ),

  /** Scale-out (docs/cluster.md): `sqlite` keeps one daemon per state database; `postgres` makes every `daemon start` a runner of one cluster. */
  cluster: () =>
    z.prefault(
      z
        .object({
          /** Where the cluster keeps its shards, messages and runners: `sqlite` (one host, the default) or `postgres`. */
          storage: z._default(z.enum(["sqlite", "postgres"]), "sqlite"),
          /** Environment variable holding the Postgres URL (`postgres://user:password@host:5432/db`); never written to the file. */
          url_env: z._default(
            aString.check(
              z.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, {
                error: "must be an environment variable name such as SPEC_ORCH_PG_URL"
              })
            ),
            "SPEC_ORCH_PG_URL"
          ),
          /** This host's runner address, `host:port`, reachable by the other runners. */
          runner_address: z.optional(
            z
              .string()
              .check(
                z.regex(/^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?):(?:[1-9][0-9]{0,4})$/, {
                  error: "must be host:port, such as 10.0.0.5:34431 or runner-1.internal:34431"
                })
              )
              .check(
                z.refine((a) => Number(a.slice(a.lastIndexOf(":") + 1)) <= 65535, {
                  error: "the port must be between 1 and 65535"
                })
              )
          ),
          /** Shard groups this runner serves (runs are sharded in `default`). */
          shard_groups: z._default(
            z
              .array(
                z
                  .string()
                  .check(
                    z.regex(/^[A-Za-z0-9_-]+$/, { error: "must be a shard group name (letters, digits, - and _)" })
                  )
              )
              .check(z.minLength(1, { error: 'name at least one shard group, e.g. ["default"]' })),
            ["default"]
          ),
          /** Agent turns at once on this host (a turn waits for a slot); default `[daemon] max_concurrent`. */
          max_concurrent_per_host: optionalPositiveInt,
          /** Runs at once across the cluster (the daemon singleton's cap); default `[daemon] max_concurrent`. */
          max_concurrent_total: optionalPositiveInt,
          /**
           * How long a runner's shard locks outlive it (seconds): a dead host's runs resume elsewhere after about
           * this long. Locks are refreshed every quarter of it.
           */
          shard_lock_expiry_seconds: z._default(z.number().check(z.int()).check(z.gte(4)).check(z.lte(600)), 35)
        })
        .check(
          z.superRefine((c, ctx) => {
            if (c.storage === "postgres" && c.runner_address === undefined)
              ctx.addIssue({
                code: "custom",
                path: ["runner_address"],
                message:
                  'storage = "postgres" needs this host\'s runner address, e.g. runner_address = "10.0.0.5:34431"'
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
        ),
      {}
    ),

  spec: () => z.prefault(z.object({ require_approval: z._default(aBoolean, true) }), {}),

  /**
   * The preview check: a command run in the worktree after verification (like a verification step);
   * its result is the preview evidence the `preview` gate condition judges.
   */
  preview: () =>
    z.prefault(
      z.object({
        command: z.optional(CommandSpec),
        timeout_seconds: z._default(positive, 600),
        /** Where the preview can be seen; shown with the verdict and in reports. */
        url: optionalString
      }),
      {}
    ),

  memory: () =>
    z.prefault(
      z.object({
        /** Record finished runs in the state database and give the builder what earlier runs showed (docs/memory.md). */
        enabled: z._default(aBoolean, true),
        provider: z._default(aString, "filesystem"),
        derivation_mode: z._default(z.enum(["sync", "async"]), "sync"),
        /**
         * A `[models.<id>]` with an OpenAI-compatible api_type whose model makes embeddings: recall then
         * fuses vector and full-text rankings. Without it (the default) recall is full text alone.
         */
        embedding_model: optionalString,
        /** How long recall waits for its query's embedding before answering from full text alone. */
        embedding_timeout_seconds: z._default(positive, 2),
        /** The LLM role whose model chain writes `memory compact` summaries; deterministic summaries without it. */
        compaction_role: z.optional(z.enum(["planner", "reviewer", "supervisor", "acceptance_evaluator"])),
        qdrant: z.optional(
          z.object({
            mode: optionalString,
            path: optionalString,
            url: optionalString,
            collection: optionalString,
            embedding_model: optionalString
          })
        )
      }),
      {}
    ),

  evolution: () =>
    z.prefault(
      z.catchall(
        z.object({
          enabled: z._default(aBoolean, true),
          trigger_after_n_runs: z._default(positiveInt, 5),
          auto_promote: z._default(aBoolean, false),
          policies: z._default(z.record(aString, EvolutionPolicy), {})
        }),
        EvolverSection
      ),
      {}
    ),

  conversation: () =>
    z.prefault(
      z.object({
        default_channel: optionalString,
        slack: z.optional(z.object({ bot_token_env: optionalString, app_token_env: optionalString })),
        linear: z.optional(z.object({ watch_label: optionalString, poll_interval_seconds: optionalNumber }))
      }),
      {}
    ),

  init: () => z.prefault(z.object({ detection_mode: z.optional(z.enum(["llm", "rules"])) }), {}),

  dashboard: () =>
    z.prefault(
      z.object({
        costs: z.optional(z.object({ warning_usd: optionalNumber, critical_usd: optionalNumber }))
      }),
      {}
    ),

  gate: () =>
    z.prefault(
      z.object({
        /** Policy file, relative to the project root; the built-in policy is used when it does not exist. */
        policy: z._default(aString, "gate.policy.yaml"),
        /** Profile for interactive runs; the daemon uses `[daemon] gate_profile`. */
        profile: optionalString,
        compliance: z._default(aString, "compliance.contracts.yaml")
      }),
      {}
    ),

  /** What a run publishes (push, pull request, commit status, tracker comment). Nothing leaves the machine unless asked. */
  publish: () =>
    z.prefault(
      z.object({
        /** `spec-orch run`: "never" (default; `--publish` asks for one run), "mergeable" (runs the gate passes), "always" (blocked runs too, as draft pull requests). */
        runs: z._default(z.enum(["never", "mergeable", "always"]), "never"),
        /** Open or update a pull request, with the gate as its commit status, when the branch was pushed and GitHub is configured. */
        pull_request: z._default(aBoolean, true),
        /** Comment the run's summary on the source issue (GitHub or Linear). */
        comment: z._default(aBoolean, true)
      }),
      {}
    ),

  /** Size caps on what agents and verification steps print: memory stays flat and artifacts bounded, whatever they write. */
  limits: () =>
    z.prefault(
      z.object({
        /** Bytes kept of one line of agent output; beyond it the line is cut with a marker and not parsed. */
        output_line_bytes: z._default(positiveInt, 1024 * 1024),
        /** Bytes kept in each of a turn's stream artifacts (agent.jsonl, events.jsonl, agent.stderr.log). */
        agent_output_bytes: z._default(positiveInt, 64 * 1024 * 1024),
        /** Bytes kept of each verification step's log. */
        step_log_bytes: z._default(positiveInt, 16 * 1024 * 1024)
      }),
      {}
    ),

  workspace: () =>
    z.prefault(
      z.object({
        /** Where worktrees live; default `$XDG_CACHE_HOME/spec-orch/worktrees` (outside the repository). */
        root: optionalString,
        /** Base for new run branches; default `[github] base_branch` if it exists locally, else HEAD. */
        base: optionalString,
        /** Directory for state and run artifacts, relative to the project root. */
        state_dir: z._default(aString, ".spec-orch"),
        /** Give each new worktree the main checkout's installed dependencies (node_modules) when its lockfile is unchanged. */
        provision: z._default(aBoolean, true),
        /** Globs of ignored, generated files (e.g. `src/pkg/_version.py`) copied from the main checkout into each new worktree. */
        copy: z._default(strings, []),
        /** More ignored directories of the main checkout to symlink into each new worktree (e.g. `.venv`). */
        link: z._default(strings, []),
        /** Commands run once in a new worktree, before the agent (in the OS sandbox, like verification). */
        after_create: z._default(z.array(CommandSpec), []),
        /** Commands run in the worktree before each agent turn. */
        before_run: z._default(z.array(CommandSpec), []),
        /** Commands run in the worktree after each agent turn, before spec-orch commits (a code generator, a formatter). */
        after_run: z._default(z.array(CommandSpec), []),
        /** Commands run in the worktree before it is removed (`workspace remove`, `clean`); a failure is reported, the worktree still goes. */
        before_remove: z._default(z.array(CommandSpec), []),
        /** Each hook command is killed after this long (a run then stops with its log; a removal goes on and says so). */
        hook_timeout_seconds: z._default(positive, 600)
      }),
      {}
    ),

  /** Traces of runs: always written to `<state_dir>/runs/<run-id>/trace.jsonl`; also sent to an OTLP collector when an endpoint is set. */
  telemetry: () =>
    z.prefault(
      z.object({
        /** The collector's OTLP/HTTP address (`http://127.0.0.1:4318`, or the full `…/v1/traces` URL); default `OTEL_EXPORTER_OTLP_ENDPOINT`. */
        otlp_endpoint: z.optional(
          aString.check(
            z.regex(/^https?:\/\/[^\s/]+/, {
              error: "must be an http:// or https:// URL such as http://127.0.0.1:4318"
            })
          )
        ),
        /** `service.name` of the exported spans. */
        service_name: z._default(aString.check(z.minLength(1)), "spec-orch"),
        /** Request headers for the collector, each read from the named environment variable (e.g. `{ "x-honeycomb-team" = "HONEYCOMB_API_KEY" }`); the values are never written anywhere. */
        headers_env: z._default(
          z.record(
            aString.check(z.regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, { error: "must be an HTTP header name" })),
            aString.check(z.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: "must be an environment variable name" }))
          ),
          {}
        )
      }),
      {}
    ),

  /** Needs-attention notices (blocked on a person, dead letter, mission finished, budget exceeded) sent to webhooks. */
  notify: () =>
    z.prefault(
      z.object({
        webhooks: z._default(
          z.array(
            z.object({
              /** Environment variable holding the webhook URL (a secret: never written to the file). */
              url_env: aString.check(
                z.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, {
                  error:
                    "must be an environment variable name such as SPEC_ORCH_SLACK_WEBHOOK (the URL itself is a secret)"
                })
              ),
              /** `generic`: a JSON body with the event's fields; `slack`: a Slack incoming-webhook `{ text }`. */
              kind: z._default(z.enum(NOTIFY_KINDS), "generic"),
              /** Which events go to this webhook; default every one. */
              events: z._default(
                z.array(z.enum(NOTIFY_EVENTS)).check(
                  z.minLength(1, {
                    error: 'name at least one event, e.g. ["dead-letter"], or leave `events` out for all'
                  })
                ),
                [...NOTIFY_EVENTS]
              )
            })
          ),
          []
        )
      }),
      {}
    ),

  sandbox: () =>
    z.prefault(
      z.object({
        /** `required` refuses to run where the OS sandbox cannot start; `best-effort` warns once and runs unconfined; `off` never confines. */
        mode: z._default(z.enum(SANDBOX_MODES), "best-effort"),
        /** Extra paths made empty inside the box (`~/` is the user's home; relative paths are relative to the project). */
        hide: z._default(strings, []),
        /** Extra host names agents may reach through the sandbox's proxy (`api.example.com` or `*.example.com`). */
        allow_hosts: z._default(
          z.array(
            aString.check(
              z.regex(HOST_PATTERN, {
                error: "must be a host name such as api.example.com or *.example.com (no scheme, port or path)"
              })
            )
          ),
          []
        ),
        /** Whether verification steps may use the network (the same hosts as agents); off by default. */
        verification_network: z._default(aBoolean, false),
        /** Extra paths writable inside every box (build caches such as `~/.gradle`); each is a way out of the box: keep it short. */
        writable: z._default(strings, [])
      }),
      {}
    )
}

type Sections = typeof SECTIONS
/** The schemas of spec-orch.toml's sections, by name. */
export type ConfigSections = { readonly [K in keyof Sections]: ReturnType<Sections[K]> }
/** The names of spec-orch.toml's sections, in the order the file format lists them. */
export const CONFIG_SECTIONS = Object.keys(SECTIONS) as ReadonlyArray<keyof ConfigSections>

const built = new Map<keyof ConfigSections, ConfigSections[keyof ConfigSections]>()

/** The schema of one section of spec-orch.toml, built the first time it is asked for (a zod schema is immutable: one serves every caller). */
export const sectionSchema = <K extends keyof ConfigSections>(key: K): ConfigSections[K] => {
  let schema = built.get(key)
  if (schema === undefined) {
    schema = SECTIONS[key]()
    built.set(key, schema)
  }
  return schema as ConfigSections[K]
}

/**
 * The whole `spec-orch.toml` schema. Lazy: its sections are built on first use (spec-orch itself validates a
 * file section by section, with `configFrom`, so a command never builds the sections a file does not have).
 */
export const ConfigFile = z.lazy(() =>
  z.object(
    Object.fromEntries(CONFIG_SECTIONS.map((key) => [key, sectionSchema(key)])) as {
      -readonly [K in keyof ConfigSections]: ConfigSections[K]
    }
  )
)

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

/**
 * The config of a file that has the sections in `given` (already validated). Every other section holds
 * its defaults, computed the first time something reads it: a section a file leaves out is its defaults
 * either way, and a command then never builds the schema of a section it does not read.
 */
export const configFrom = (given: Partial<SpecOrchConfig>): SpecOrchConfig => {
  const config: Record<string, unknown> = {}
  const settle = (key: string, value: unknown) =>
    Object.defineProperty(config, key, { value, enumerable: true, configurable: true, writable: true })
  for (const key of CONFIG_SECTIONS) {
    if (Object.hasOwn(given, key)) config[key] = given[key]
    else
      Object.defineProperty(config, key, {
        enumerable: true,
        configurable: true,
        get: () => {
          const value = sectionSchema(key).parse(undefined)
          settle(key, value)
          return value
        },
        set: (value: unknown) => settle(key, value)
      })
  }
  return config as SpecOrchConfig
}
