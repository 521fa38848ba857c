/**
 * Rule-based project detection for `spec-orch init`: which language and tools a repository uses,
 * and the project's own lint / typecheck / test / build commands. Pure: it reads only the file
 * listing and the marker files' contents it is given. The first matching marker wins.
 */

/** What detection found. */
export interface Detection {
  readonly language: "node" | "python" | "rust" | "go" | "java" | "dotnet" | "unknown"
  readonly framework?: string
  /** Ordered verification steps as argv lists. */
  readonly verification: ReadonlyArray<readonly [name: string, argv: ReadonlyArray<string>]>
  readonly notes: ReadonlyArray<string>
  readonly baseBranch?: string
  /** Ignored, generated files a fresh worktree needs from the main checkout (`[workspace] copy`). */
  readonly copy?: ReadonlyArray<string>
}

/** Inputs: top-level file names and the text of the marker files that exist. */
export interface DetectionInput {
  readonly files: ReadonlyArray<string>
  readonly read: (name: string) => string | undefined
  readonly baseBranch?: string | undefined
}

const has = (input: DetectionInput, ...names: Array<string>) => names.some((n) => input.files.includes(n))
const hasExt = (input: DetectionInput, ...exts: Array<string>) =>
  input.files.some((f) => exts.some((e) => f.endsWith(e)))

const node = (input: DetectionInput): Detection => {
  const notes: Array<string> = []
  let pkg: {
    scripts?: Record<string, string>
    dependencies?: Record<string, string>
    devDependencies?: Record<string, string>
    packageManager?: string
  } = {}
  try {
    pkg = JSON.parse(input.read("package.json") ?? "{}")
  } catch {
    notes.push("package.json is not valid JSON; using generic Node commands")
  }
  const deps = { ...pkg.dependencies, ...pkg.devDependencies }
  const scripts = pkg.scripts ?? {}
  const pm =
    pkg.packageManager?.startsWith("pnpm") || has(input, "pnpm-lock.yaml")
      ? "pnpm"
      : pkg.packageManager?.startsWith("yarn") || has(input, "yarn.lock")
        ? "yarn"
        : has(input, "bun.lockb", "bun.lock")
          ? "bun"
          : "npm"
  const run = (script: string): Array<string> =>
    pm === "npm" ? ["npm", "run", "--silent", script] : [pm, "run", script]
  const steps: Array<readonly [string, ReadonlyArray<string>]> = []
  if (scripts.lint) steps.push(["lint", run("lint")])
  else if (deps["@biomejs/biome"]) steps.push(["lint", ["npx", "biome", "check", "."]])
  else if (deps.eslint) steps.push(["lint", ["npx", "eslint", "."]])
  if (scripts.typecheck) steps.push(["typecheck", run("typecheck")])
  else if (deps.typescript || has(input, "tsconfig.json")) steps.push(["typecheck", ["npx", "tsc", "--noEmit"]])
  if (scripts.test && !/no test specified/.test(scripts.test))
    steps.push(["test", pm === "npm" ? ["npm", "test", "--silent"] : [pm, "test"]])
  else if (deps.vitest) steps.push(["test", ["npx", "vitest", "run"]])
  else if (deps.jest) steps.push(["test", ["npx", "jest"]])
  else notes.push("no test script found; add one to package.json and to [verification]")
  if (scripts.build) steps.push(["build", run("build")])
  const framework = [
    "next",
    "vite",
    "@angular/core",
    "vue",
    "nuxt",
    "@remix-run/react",
    "astro",
    "svelte",
    "express",
    "fastify",
    "effect"
  ].find((f) => deps[f] !== undefined)
  return { language: "node", ...(framework ? { framework } : {}), verification: steps, notes }
}

/** The Python files whose text says which tools a project uses. */
export const PYTHON_CONFIG_FILES = [
  "pyproject.toml",
  "setup.cfg",
  "tox.ini",
  "pytest.ini",
  "mypy.ini",
  ".mypy.ini",
  "ruff.toml",
  ".ruff.toml",
  ".flake8",
  "requirements-dev.txt",
  "requirements_dev.txt",
  "dev-requirements.txt",
  "requirements-test.txt",
  "Pipfile"
] as const

/**
 * A Python project's checks from its own configuration: a tool is a step only when the project
 * configures or lists it (ruff, else flake8; mypy; pytest, else the standard library's unittest).
 */
const python = (i: DetectionInput): Detection => {
  const text = (name: string) => i.read(name) ?? ""
  const all = PYTHON_CONFIG_FILES.map(text).join("\n")
  const py = text("pyproject.toml")
  const section = (file: string, name: string) =>
    new RegExp(`^\\[${name.replace(/[.[\]]/g, "\\$&")}\\]`, "m").test(text(file))
  // tox.ini runs a tool in an env's `commands` or installs it in `deps`.
  const tox = (tool: string) =>
    new RegExp(`^\\s*(?:(?:commands|deps)\\s*=)?\\s*(?:python3?\\s+-m\\s+)?${tool}\\b`, "m").test(text("tox.ini"))
  const src = i.files.includes("src") ? "src/" : "."
  const notes: Array<string> = []
  const steps: Array<readonly [string, ReadonlyArray<string>]> = []
  const ruff =
    has(i, "ruff.toml", ".ruff.toml") ||
    /^\[tool\.ruff/m.test(py) ||
    /^\s*ruff\b/m.test(all) ||
    /["']ruff[<>=~!\s"']/.test(py) ||
    tox("ruff")
  const flake8 =
    has(i, ".flake8") ||
    section("setup.cfg", "flake8") ||
    section("tox.ini", "flake8") ||
    /^\s*flake8\b/m.test(all) ||
    tox("flake8")
  if (ruff) steps.push(["lint", ["{python}", "-m", "ruff", "check", src]])
  else if (flake8) steps.push(["lint", ["{python}", "-m", "flake8", src]])
  else notes.push("no linter configured (ruff or flake8); no lint step")
  const mypy =
    has(i, "mypy.ini", ".mypy.ini") ||
    /^\[tool\.mypy/m.test(py) ||
    section("setup.cfg", "mypy") ||
    section("tox.ini", "mypy") ||
    /^\s*mypy\b/m.test(all) ||
    /["']mypy[<>=~!\s"']/.test(py) ||
    tox("mypy")
  if (mypy) steps.push(["typecheck", ["{python}", "-m", "mypy", src]])
  else notes.push("mypy not configured (pyproject.toml, setup.cfg, tox.ini or mypy.ini); no typecheck step")
  const pytest =
    has(i, "pytest.ini", "conftest.py") ||
    /^\[tool\.pytest/m.test(py) ||
    section("setup.cfg", "tool:pytest") ||
    section("tox.ini", "pytest") ||
    /^\s*pytest\b/m.test(all) ||
    /["']pytest[<>=~!\s"']/.test(py) ||
    tox("pytest")
  if (pytest) steps.push(["test", ["{python}", "-m", "pytest", "-q"]])
  else {
    steps.push(["test", ["{python}", "-m", "unittest", "discover", "-q"]])
    notes.push("pytest not configured; the test step is the standard library's unittest discovery")
  }
  const copy = generatedVersionFiles(py)
  return { language: "python", ...(copy.length > 0 ? { copy } : {}), verification: steps, notes }
}

const rules: ReadonlyArray<{
  readonly when: (i: DetectionInput) => boolean
  readonly detect: (i: DetectionInput) => Detection
}> = [
  { when: (i) => has(i, "package.json"), detect: node },
  {
    when: (i) => has(i, "pyproject.toml", "setup.py", "setup.cfg", "requirements.txt", "Pipfile", "tox.ini"),
    detect: python
  },
  {
    when: (i) => has(i, "Cargo.toml"),
    detect: () => ({
      language: "rust",
      verification: [
        ["lint", ["cargo", "clippy", "--all-targets", "--", "-D", "warnings"]],
        ["typecheck", ["cargo", "check", "--all-targets"]],
        ["test", ["cargo", "test"]],
        ["build", ["cargo", "build"]]
      ],
      notes: []
    })
  },
  {
    when: (i) => has(i, "go.mod"),
    detect: (i) => ({
      language: "go",
      verification: [
        ...(has(i, ".golangci.yml", ".golangci.yaml") ? [["lint", ["golangci-lint", "run"]] as const] : []),
        ["typecheck", ["go", "vet", "./..."]],
        ["test", ["go", "test", "./..."]],
        ["build", ["go", "build", "./..."]]
      ],
      notes: []
    })
  },
  {
    when: (i) => has(i, "pom.xml", "build.gradle", "build.gradle.kts"),
    detect: (i) =>
      has(i, "pom.xml")
        ? {
            language: "java",
            framework: "maven",
            verification: [
              ["test", ["mvn", "-q", "test"]],
              ["build", ["mvn", "-q", "package", "-DskipTests"]]
            ],
            notes: []
          }
        : {
            language: "java",
            framework: "gradle",
            verification: [
              ["test", [has(i, "gradlew") ? "./gradlew" : "gradle", "test"]],
              ["build", [has(i, "gradlew") ? "./gradlew" : "gradle", "build", "-x", "test"]]
            ],
            notes: []
          }
  },
  {
    when: (i) => hasExt(i, ".csproj", ".sln", ".fsproj"),
    detect: () => ({
      language: "dotnet",
      verification: [
        ["lint", ["dotnet", "format", "--verify-no-changes"]],
        ["test", ["dotnet", "test"]],
        ["build", ["dotnet", "build"]]
      ],
      notes: []
    })
  }
]

/**
 * Version files a build backend writes and git ignores (setuptools-scm `version_file`/`write_to`,
 * hatch-vcs `version-file`): a fresh worktree lacks them, and importing the package fails without.
 */
const generatedVersionFiles = (pyproject: string): Array<string> => {
  const out: Array<string> = []
  for (const m of pyproject.matchAll(/^\s*(?:version_file|write_to|version-file)\s*=\s*["']([^"'\n]+)["']/gm)) {
    if (!out.includes(m[1]!)) out.push(m[1]!)
  }
  return out
}

/** Detects the project from its top-level files. */
export const detectProject = (input: DetectionInput): Detection => {
  const rule = rules.find((r) => r.when(input))
  const found = rule
    ? rule.detect(input)
    : {
        language: "unknown" as const,
        verification: [],
        notes: [
          "no known project marker (package.json, pyproject.toml, Cargo.toml, go.mod, pom.xml, *.csproj); add [verification] steps by hand"
        ]
      }
  return input.baseBranch !== undefined ? { ...found, baseBranch: input.baseBranch } : found
}

const tomlString = (s: string) => JSON.stringify(s)
const tomlArgv = (argv: ReadonlyArray<string>) => `[${argv.map(tomlString).join(", ")}]`

/** A commented `spec-orch.toml` for a detected project. */
export const renderInitialConfig = (d: Detection): string =>
  [
    "# spec-orch configuration. Every key is optional; defaults are listed in docs/configuration.md.",
    `# Detected: ${d.language}${d.framework ? ` (${d.framework})` : ""}.`,
    ...d.notes.map((n) => `# Note: ${n}`),
    "",
    "[issue]",
    '# Where issues come from: "fixture" (files in fixtures/issues/), "linear" or "github".',
    'source = "fixture"',
    "",
    "[verification]",
    "# The project's own checks, run in the run's worktree in this order. A step that is not listed is",
    "# skipped, never failed. Use an argv list (no shell) or a string (run with sh -c).",
    ...(d.verification.length === 0
      ? ['# test = ["make", "test"]']
      : d.verification.map(([name, argv]) => `${name} = ${tomlArgv(argv)}`)),
    "",
    "[workspace]",
    "# Each new worktree gets the main checkout's installed dependencies: node_modules linked (a copy of",
    "# hard links in a workspace monorepo) while the lockfile is unchanged; {python} is the project's",
    "# .venv with the worktree's code first on PYTHONPATH. When the agent changes the lockfile,",
    "# verification first reinstalls from it in the sandbox (offline) and says so. false turns provisioning off.",
    "provision = true",
    "# Ignored, generated files copied from the main checkout into each new worktree (globs).",
    `copy = ${tomlArgv(d.copy ?? [])}`,
    "# More ignored directories of the main checkout to symlink into each new worktree.",
    "link = []",
    "# Hooks: commands run in the worktree (sandboxed, like verification; logs kept). after_create: once in a",
    "# new worktree; before_run/after_run: around each agent turn; before_remove: before `workspace remove`",
    "# or `clean` removes it (a failure is reported, the worktree still goes).",
    '# after_create = ["npm ci --prefer-offline"]',
    "# before_remove = []",
    "",
    "[builder]",
    "# The coding agent: codex (the default), claude_code, opencode, droid, acp, or command.",
    'adapter = "codex"',
    "timeout_seconds = 1800",
    "# No agent event for this long ends the turn as stalled.",
    "stall_timeout_seconds = 300",
    "",
    "[spec]",
    "# Runs wait for `spec-orch spec approve <issue>` unless this is false or --auto-approve is given.",
    "require_approval = true",
    "",
    "[gate]",
    "# Gate policy file; the built-in policy applies when it does not exist.",
    'policy = "gate.policy.yaml"',
    "",
    "[sandbox]",
    '# Agents and verification run in an OS sandbox (bubblewrap): "required" refuses to run without it,',
    '# "best-effort" warns once and runs unconfined, "off" never confines. See docs/sandbox.md.',
    'mode = "best-effort"',
    "",
    "[publish]",
    "# What `spec-orch run` publishes (push, pull request, status, comment): never, mergeable or always.",
    "# --publish asks for one run.",
    'runs = "never"',
    "",
    "[github]",
    `base_branch = ${tomlString(d.baseBranch ?? "main")}`,
    "",
    "# [linear]",
    '# token_env = "SPEC_ORCH_LINEAR_TOKEN"',
    '# team_key = "ENG"',
    "",
    "[init]",
    'detection_mode = "rules"',
    ""
  ].join("\n")
