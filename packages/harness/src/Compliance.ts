/**
 * Compliance contracts over agent behaviour, in the original's `compliance.contracts.yaml` format
 * (loaded unchanged): regex contracts scanned over the text of the agent's normalized events, and the
 * built-in `pre-action-narration` contract. The result is contract's `ComplianceReport`, which the
 * gate's `compliance` condition judges; an error-severity violation makes a turn non-compliant.
 */
import {
  type AgentEvent,
  ComplianceReport,
  ComplianceViolation,
  FileProblem,
  InvalidFile,
  Project,
  validateWith,
  yamlLocator
} from "@spec-orch/contract"
import { Context, Effect, FileSystem, Layer, Path } from "effect"
import { parseDocument } from "yaml"
import * as z from "zod/mini"

const ContractEntry = z.object({
  id: z.string().check(z.minLength(1)),
  name: z.optional(z.string()),
  description: z.optional(z.string()),
  severity: z._default(z.enum(["warning", "error"]), "warning"),
  builtin: z._default(z.boolean(), false),
  patterns: z._default(z.array(z.string()), []),
  check_fields: z._default(z.array(z.string()), ["text"])
})
const ContractsFile = z.object({ contracts: z._default(z.array(ContractEntry), []) })

/** One loaded compliance contract. */
export interface ComplianceContract {
  readonly id: string
  readonly name: string
  /** The file's `description`, when it has one. */
  readonly description?: string
  readonly severity: "warning" | "error"
  readonly builtin: boolean
  readonly patterns: ReadonlyArray<RegExp>
}

/** Built-in contracts by id. */
const BUILTINS = ["pre-action-narration"] as const

/** Contracts used when the project has no compliance file. */
export const defaultComplianceContracts: ReadonlyArray<ComplianceContract> = [
  { id: "pre-action-narration", name: "Pre-action narration", severity: "warning", builtin: true, patterns: [] },
  {
    id: "no-force-push",
    name: "No force push",
    severity: "error",
    builtin: false,
    patterns: [/git\s+push\s+(-f|--force)/]
  }
]

/** Turns a Python-flavoured pattern (`(?i)…`, `(?P<n>…)`) into a JS RegExp. */
export const compilePattern = (pattern: string): RegExp => {
  let flags = "g"
  let source = pattern
  const inline = /^\(\?([aiLmsux]+)\)/.exec(source)
  if (inline) {
    source = source.slice(inline[0].length)
    if (inline[1]!.includes("i")) flags += "i"
    if (inline[1]!.includes("m")) flags += "m"
    if (inline[1]!.includes("s")) flags += "s"
  }
  return new RegExp(source.replace(/\(\?P</g, "(?<").replace(/\(\?P=(\w+)\)/g, "\\k<$1>"), flags)
}

/** Parses a compliance contracts file; problems name file, line and key. */
export const loadComplianceContracts = (
  text: string,
  file: string
): { contracts?: ReadonlyArray<ComplianceContract>; problems: ReadonlyArray<FileProblem> } => {
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
  const locate = yamlLocator(text)
  const { value, problems } = validateWith(ContractsFile, doc.toJS() ?? {}, file, locate)
  if (value === undefined) return { problems }
  const out: Array<FileProblem> = [...problems]
  const contracts: Array<ComplianceContract> = []
  value.contracts.forEach((c, i) => {
    if (c.builtin && !(BUILTINS as ReadonlyArray<string>).includes(c.id)) {
      out.push(
        new FileProblem({
          file,
          ...(locate(["contracts", i, "id"]) ?? {}),
          key: `contracts.${i}.id`,
          severity: "error",
          message: `no built-in contract "${c.id}"`,
          hint: `built-ins: ${BUILTINS.join(", ")}`
        })
      )
      return
    }
    const patterns: Array<RegExp> = []
    c.patterns.forEach((p, j) => {
      try {
        patterns.push(compilePattern(p))
      } catch (e) {
        out.push(
          new FileProblem({
            file,
            ...(locate(["contracts", i, "patterns", j]) ?? {}),
            key: `contracts.${i}.patterns.${j}`,
            severity: "error",
            message: `invalid regular expression: ${(e as Error).message}`
          })
        )
      }
    })
    contracts.push({
      id: c.id,
      name: c.name ?? c.id,
      ...(c.description !== undefined ? { description: c.description.trim() } : {}),
      severity: c.severity,
      builtin: c.builtin,
      patterns
    })
  })
  return out.some((p) => p.severity === "error") ? { problems: out } : { contracts, problems: out }
}

/** The text of an event that contracts scan. */
const eventText = (e: AgentEvent): string | undefined => {
  switch (e._tag) {
    case "message":
    case "reasoning":
      return e.text
    case "command":
      return e.command
    case "tool_call":
      return typeof e.input === "string" ? e.input : JSON.stringify(e.input)
    case "error":
      return e.message
    case "turn_end":
      return e.text
    default:
      return undefined
  }
}

const NARRATION =
  /\b(I will|I'll|I am going to|I'm going to|Let me|My plan|The plan is|First,? I|Here is my approach|I'll start by)\b/i
const excerpt = (text: string, index: number) =>
  text
    .slice(Math.max(0, index - 40), index + 80)
    .replace(/\s+/g, " ")
    .trim()

/** Evaluates contracts over a turn's events (pure). */
export const evaluateCompliance = (
  contracts: ReadonlyArray<ComplianceContract>,
  events: ReadonlyArray<AgentEvent>
): ComplianceReport => {
  const scanner = complianceScanner(contracts)
  for (const e of events) scanner.add(e)
  return scanner.report()
}

/** Violations kept per contract; more are counted in the report, not listed. */
const MAX_VIOLATIONS_PER_CONTRACT = 50

/**
 * The same judgement as `evaluateCompliance`, one event at a time: a turn's events need not be held in
 * memory (an agent may emit millions). `report()` may be called at any point.
 */
export const complianceScanner = (contracts: ReadonlyArray<ComplianceContract>) => {
  const violations: Array<ComplianceViolation> = []
  const order = new Map(contracts.map((c, i) => [c.id, i]))
  const perContract = new Map<string, number>()
  let acted = false
  let omittedErrors = 0
  let omittedWarnings = 0
  const record = (c: ComplianceContract, v: ComplianceViolation) => {
    const n = perContract.get(c.id) ?? 0
    perContract.set(c.id, n + 1)
    if (n < MAX_VIOLATIONS_PER_CONTRACT) violations.push(v)
    else if (v.severity === "error") omittedErrors++
    else omittedWarnings++
  }
  return {
    add: (e: AgentEvent): void => {
      const isAction = e._tag === "command" || e._tag === "file_change" || e._tag === "tool_call"
      for (const c of contracts) {
        if (c.builtin && c.id === "pre-action-narration") {
          // Only narration before the first action counts.
          if (!acted && !isAction && e._tag === "message" && e.role === "assistant") {
            const m = NARRATION.exec(e.text)
            if (m)
              record(
                c,
                new ComplianceViolation({
                  contractId: c.id,
                  severity: c.severity,
                  kind: e._tag,
                  match: m[0],
                  excerpt: excerpt(e.text, m.index)
                })
              )
          }
          continue
        }
        const text = eventText(e)
        if (text === undefined) continue
        for (const p of c.patterns) {
          p.lastIndex = 0
          const m = p.exec(text)
          if (m) {
            record(
              c,
              new ComplianceViolation({
                contractId: c.id,
                severity: c.severity,
                kind: e._tag,
                match: m[0].slice(0, 80),
                excerpt: excerpt(text, m.index)
              })
            )
            break
          }
        }
      }
      if (isAction) acted = true
    },
    report: (): ComplianceReport => {
      const errorCount = violations.filter((v) => v.severity === "error").length + omittedErrors
      return new ComplianceReport({
        compliant: errorCount === 0,
        errorCount,
        warningCount: violations.length - (errorCount - omittedErrors) + omittedWarnings,
        contracts: contracts.map((c) => c.id),
        // Grouped by contract, in the file's order; events in order within a contract.
        violations: [...violations].sort((a, b) => order.get(a.contractId)! - order.get(b.contractId)!)
      })
    }
  }
}

/** The project's compliance contracts (`[gate] compliance`, or the defaults when the file is absent). */
export class Compliance extends Context.Service<
  Compliance,
  {
    readonly contracts: ReadonlyArray<ComplianceContract>
    /** Where the contracts came from: a file path or "built-in defaults". */
    readonly source: string
    readonly evaluate: (events: ReadonlyArray<AgentEvent>) => ComplianceReport
    /**
     * An incremental judge for one turn: feed events as they arrive, read the report at the end. `learned`
     * adds approved learned rules (docs/evolution.md) after the project's contracts.
     */
    readonly scanner: (learned?: ReadonlyArray<ComplianceContract>) => ReturnType<typeof complianceScanner>
  }
>()("@spec-orch/harness/Compliance") {
  static readonly layer: Layer.Layer<Compliance, InvalidFile, Project | FileSystem.FileSystem | Path.Path> =
    Layer.effect(
      Compliance,
      Effect.gen(function* () {
        const project = yield* Project
        const fs = yield* FileSystem.FileSystem
        const path = yield* Path.Path
        const file = project.resolve(project.config.gate.compliance)
        const text = yield* fs.readFileString(file).pipe(Effect.option)
        if (text._tag === "None") {
          return Compliance.of({
            contracts: defaultComplianceContracts,
            source: "built-in defaults",
            evaluate: (ev) => evaluateCompliance(defaultComplianceContracts, ev),
            scanner: (learned = []) => complianceScanner([...defaultComplianceContracts, ...learned])
          })
        }
        const shown = path.relative(process.cwd(), file) || file
        const loaded = loadComplianceContracts(text.value, shown)
        if (loaded.contracts === undefined) return yield* new InvalidFile({ file: shown, problems: loaded.problems })
        const contracts = loaded.contracts
        return Compliance.of({
          contracts,
          source: shown,
          evaluate: (ev) => evaluateCompliance(contracts, ev),
          scanner: (learned = []) => complianceScanner([...contracts, ...learned])
        })
      })
    )
}
