/**
 * Gherkin feature files (`.feature`): `Feature:` with a description, optional `Background:`, `Rule:`
 * groups, `Scenario:`/`Example:` and `Scenario Outline:`/`Scenario Template:` with `Examples:` tables,
 * steps `Given`/`When`/`Then`/`And`/`But`/`*`, tags, comments, doc strings and data tables. One
 * acceptance criterion per scenario (an outline is one criterion naming its example count).
 */
import type { FileProblem } from "../FileProblem.js"
import { slugify } from "../Ids.js"
import { type ImportedCriterion, type ImportResult, problemAt, type SourceFile } from "./Imported.js"

const STEP = /^(Given|When|Then|And|But|\*)\s+(.*)$/
const BLOCK =
  /^(Feature|Rule|Background|Scenario Outline|Scenario Template|Scenario|Example|Examples|Scenarios):\s*(.*)$/
const STEP_HINT =
  "a scenario holds steps starting with Given, When, Then, And or But (then tables `| \u2026 |` or doc strings)"

interface Scenario {
  readonly name: string
  readonly line: number
  readonly outline: boolean
  readonly rule: string | undefined
  readonly steps: Array<{ keyword: string; text: string }>
  examples: number
  examplesLine: number | undefined
}

/** Converts one or more feature files (see the module comment); `name` titles a draft of several features. */
export const importGherkin = (files: ReadonlyArray<SourceFile>, name: string): ImportResult => {
  const problems: Array<FileProblem> = []
  const criteria: Array<ImportedCriterion> = []
  const intent: Array<string> = []
  const context: Array<string> = []
  const features: Array<string> = []
  for (const src of files) {
    let feature: string | undefined
    let block: "feature" | "rule" | "background" | "scenario" | "examples" | undefined
    let rule: string | undefined
    let scenario: Scenario | undefined
    let description: Array<string> = []
    let docString: string | undefined
    let headerRow = false
    const scenarios: Array<Scenario> = []
    const lines = src.text.split(/\r?\n/)
    for (let i = 0; i < lines.length; i++) {
      const n = i + 1
      const t = lines[i]!.trim()
      if (docString !== undefined) {
        if (t.startsWith(docString)) docString = undefined
        continue
      }
      if (t === "" || t.startsWith("#") || t.startsWith("@")) continue
      if (t.startsWith('"""') || t.startsWith("```")) {
        if (block !== "scenario" && block !== "background")
          problems.push(problemAt(src.file, n, "a doc string outside a step", STEP_HINT))
        docString = t.slice(0, 3)
        continue
      }
      const b = BLOCK.exec(t)
      if (b) {
        const kw = b[1]!
        if (kw === "Feature") {
          if (feature !== undefined)
            problems.push(
              problemAt(src.file, n, "a second Feature in one file", "put each feature in its own .feature file")
            )
          feature = b[2]!.trim()
          block = "feature"
          continue
        }
        if (feature === undefined) {
          problems.push(
            problemAt(src.file, n, `"${kw}:" before "Feature:"`, "a .feature file starts with `Feature: <name>`")
          )
          continue
        }
        if (kw === "Rule") {
          rule = b[2]!.trim()
          block = "rule"
          continue
        }
        if (kw === "Background") {
          block = "background"
          scenario = undefined
          continue
        }
        if (kw === "Examples" || kw === "Scenarios") {
          if (scenario === undefined || !scenario.outline) {
            problems.push(
              problemAt(src.file, n, `"${kw}:" outside a Scenario Outline`, "examples belong to a `Scenario Outline:`")
            )
            continue
          }
          block = "examples"
          headerRow = true
          scenario.examplesLine = n
          continue
        }
        scenario = {
          name: b[2]!.trim(),
          line: n,
          outline: kw === "Scenario Outline" || kw === "Scenario Template",
          rule,
          steps: [],
          examples: 0,
          examplesLine: undefined
        }
        scenarios.push(scenario)
        block = "scenario"
        continue
      }
      if (t.startsWith("|")) {
        if (block === "examples" && scenario !== undefined) {
          if (headerRow) headerRow = false
          else scenario.examples++
        } else if (block !== "scenario" && block !== "background")
          problems.push(problemAt(src.file, n, "a table row outside a step or Examples", STEP_HINT))
        continue
      }
      const step = STEP.exec(t)
      if (step) {
        if (block === "background") context.push(`Background${feature ? ` (${feature})` : ""}: ${step[1]} ${step[2]}`)
        else if (block === "scenario" && scenario !== undefined)
          scenario.steps.push({ keyword: step[1]!, text: step[2]!.trim() })
        else
          problems.push(
            problemAt(
              src.file,
              n,
              `step "${step[1]} ${step[2]!.slice(0, 40)}" outside a scenario`,
              "steps go under `Scenario:`, `Example:` or `Background:`"
            )
          )
        continue
      }
      if (block === "feature" || block === "rule") {
        description.push(t)
        continue
      }
      if (feature === undefined) {
        problems.push(
          problemAt(
            src.file,
            n,
            `expected "Feature: <name>", found ${JSON.stringify(t.slice(0, 50))}`,
            "a .feature file starts with `Feature: <name>` (tags and # comments may come first)"
          )
        )
        break
      }
      problems.push(problemAt(src.file, n, `expected a step, found ${JSON.stringify(t.slice(0, 50))}`, STEP_HINT))
    }
    if (docString !== undefined)
      problems.push(
        problemAt(
          src.file,
          lines.length,
          `a doc string (${docString}) is never closed`,
          `end it with ${docString} on its own line`
        )
      )
    if (feature === undefined) {
      if (!problems.some((p) => p.file === src.file))
        problems.push(problemAt(src.file, 1, 'no "Feature:" found', "a .feature file starts with `Feature: <name>`"))
      continue
    }
    features.push(feature)
    if (description.length > 0) intent.push(`${files.length > 1 ? `${feature}: ` : ""}${description.join(" ")}`)
    description = []
    if (scenarios.length === 0)
      problems.push(
        problemAt(
          src.file,
          1,
          `feature "${feature}" has no scenarios`,
          "add `Scenario: <name>` with Given/When/Then steps"
        )
      )
    for (const s of scenarios) {
      const kinds = new Set<string>()
      let last = ""
      for (const st of s.steps) {
        last = st.keyword === "And" || st.keyword === "But" || st.keyword === "*" ? last : st.keyword
        kinds.add(last)
      }
      if (s.steps.length === 0)
        problems.push(problemAt(src.file, s.line, `scenario "${s.name}" has no steps`, STEP_HINT))
      else if (!kinds.has("Then"))
        problems.push(
          problemAt(
            src.file,
            s.line,
            `scenario "${s.name}" has no Then step: nothing says what must be true afterwards`,
            "add `Then <expected outcome>`"
          )
        )
      else if (s.outline && s.examples === 0)
        problems.push(
          problemAt(
            src.file,
            s.examplesLine ?? s.line,
            `scenario outline "${s.name}" has no example rows`,
            "add `Examples:` with a header row and at least one row"
          )
        )
      else {
        const steps = s.steps
          .map((st) => `${st.keyword === "*" ? "" : `${st.keyword.toLowerCase()} `}${st.text}`)
          .join(", ")
        criteria.push({
          text: `${s.rule !== undefined ? `${s.rule} / ` : ""}${s.name}: ${steps.charAt(0).toUpperCase()}${steps.slice(1)}${s.outline ? ` (for each of ${s.examples} examples)` : ""}`,
          file: src.file,
          line: s.line
        })
      }
    }
  }
  if (problems.length > 0) return { problems }
  const title = features.length === 1 ? features[0]! : name
  return {
    spec: {
      format: "gherkin",
      title,
      suggestedId: slugify(title, 80) || "gherkin-features",
      intent,
      criteria,
      constraints: [],
      context,
      successCriteria: [],
      notes: [],
      tasks: []
    }
  }
}
