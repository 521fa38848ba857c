/** Handlers for `spec-orch init`: detect the project and write a commented spec-orch.toml with its own commands. */
import { detectProject, projectDirectory, PYTHON_CONFIG_FILES, renderInitialConfig } from "@spec-orch/contract"
import { execFileSync } from "node:child_process"
import { Effect, FileSystem, Path, Schema } from "effect"
import { emit } from "../Output.js"
import { Root } from "../Root.js"

/** spec-orch.toml exists and --force was not given. */
export class ConfigExists extends Schema.TaggedError<ConfigExists>()("ConfigExists", { file: Schema.String }) {
  override get message() {
    return `${this.file} already exists; use --force to overwrite it`
  }
}

const MARKERS = new Set<string>(["package.json", "Cargo.toml", "go.mod", ...PYTHON_CONFIG_FILES])

const baseBranch = (cwd: string): string | undefined => {
  const git = (...args: Array<string>) => {
    try {
      return execFileSync("git", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim()
    } catch {
      return undefined
    }
  }
  const head = git("symbolic-ref", "--short", "refs/remotes/origin/HEAD")
  if (head) return head.replace(/^origin\//, "")
  for (const b of ["main", "master"]) if (git("rev-parse", "--verify", "--quiet", `refs/heads/${b}`)) return b
  return git("branch", "--show-current") || undefined
}

export const init = ({ force, dryRun, json }: { force: boolean; dryRun: boolean; json: boolean }) =>
  Effect.gen(function* () {
    const { cwd } = yield* Root
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const root = yield* projectDirectory(cwd)
    const target = path.join(root, "spec-orch.toml")
    if (!dryRun && !force && (yield* fs.exists(target)))
      return yield* new ConfigExists({ file: path.relative(process.cwd(), target) || target })
    const files = yield* fs.readDirectory(root)
    const contents = new Map<string, string>()
    for (const m of MARKERS) if (files.includes(m)) contents.set(m, yield* fs.readFileString(path.join(root, m)))
    const detection = detectProject({ files, read: (n) => contents.get(n), baseBranch: baseBranch(root) })
    const text = renderInitialConfig(detection)
    if (!dryRun) yield* fs.writeFileString(target, text)
    yield* emit(json, { file: target, written: !dryRun, detection }, () =>
      dryRun
        ? text
        : [
            `Wrote ${path.relative(process.cwd(), target) || target} (${detection.language}${detection.framework ? `, ${detection.framework}` : ""}).`,
            ...detection.verification.map(([n, a]) => `  verify ${n}: ${a.join(" ")}`),
            ...detection.notes.map((n) => `  note: ${n}`),
            "Next: `spec-orch config check`, then `spec-orch issue list`."
          ]
    )
  })
