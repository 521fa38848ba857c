import { assert, describe, it } from "@effect/vitest"
import { detectProject, parseConfig, renderInitialConfig } from "../src/index.js"

const detect = (files: Record<string, string>, extra: Array<string> = []) =>
  detectProject({ files: [...Object.keys(files), ...extra], read: (n) => files[n] })

describe("detectProject", () => {
  it("uses a Node project's own scripts and package manager", () => {
    const d = detect(
      {
        "package.json": JSON.stringify({
          scripts: { lint: "eslint .", test: "vitest run", build: "tsc -b" },
          devDependencies: { typescript: "5", vitest: "4" }
        })
      },
      ["pnpm-lock.yaml"]
    )
    assert.strictEqual(d.language, "node")
    assert.deepStrictEqual(d.verification, [
      ["lint", ["pnpm", "run", "lint"]],
      ["typecheck", ["npx", "tsc", "--noEmit"]],
      ["test", ["pnpm", "test"]],
      ["build", ["pnpm", "run", "build"]]
    ])
  })

  it("skips npm's placeholder test script and says so", () => {
    const d = detect({
      "package.json": JSON.stringify({ scripts: { test: 'echo "Error: no test specified" && exit 1' } })
    })
    assert.deepStrictEqual(d.verification, [])
    assert.match(d.notes[0]!, /no test script/)
  })

  it("detects Python, Rust, Go, Java and .NET from their markers", () => {
    assert.strictEqual(
      detect({ "pyproject.toml": "[tool.mypy]\n" }, ["src"])
        .verification.find(([n]) => n === "typecheck")?.[1]
        .join(" "),
      "{python} -m mypy src/"
    )
    assert.deepStrictEqual(
      detect({ "Cargo.toml": "" }).verification.map(([n]) => n),
      ["lint", "typecheck", "test", "build"]
    )
    assert.deepStrictEqual(
      detect({ "go.mod": "" }).verification.map(([, a]) => a.join(" ")),
      ["go vet ./...", "go test ./...", "go build ./..."]
    )
    assert.strictEqual(detect({ "pom.xml": "" }).framework, "maven")
    assert.strictEqual(detect({}, ["gradlew", "build.gradle.kts"]).verification[0]![1][0], "./gradlew")
    assert.strictEqual(detect({}, ["App.csproj"]).language, "dotnet")
    assert.strictEqual(detect({}, ["README.md"]).language, "unknown")
  })

  it("gives a Python project only the tools it configures, from pyproject.toml, setup.cfg or tox.ini", () => {
    const argv = (d: ReturnType<typeof detect>) => d.verification.map(([n, a]) => `${n}: ${a.join(" ")}`)
    assert.deepStrictEqual(
      argv(
        detect(
          {
            "pyproject.toml": "[tool.ruff]\nline-length = 100\n[tool.mypy]\nstrict = true\n[tool.pytest.ini_options]\n"
          },
          ["src"]
        )
      ),
      ["lint: {python} -m ruff check src/", "typecheck: {python} -m mypy src/", "test: {python} -m pytest -q"]
    )
    // A setup.cfg project with flake8 and pytest sections: no ruff, no mypy it never installed.
    const cfg = detect(
      { "setup.cfg": "[metadata]\nname = pkg\n[flake8]\nmax-line-length = 100\n[tool:pytest]\ntestpaths = tests\n" },
      ["setup.py"]
    )
    assert.deepStrictEqual(argv(cfg), ["lint: {python} -m flake8 .", "test: {python} -m pytest -q"])
    assert.isTrue(cfg.notes.some((n) => /mypy not configured/.test(n)))
    // tox.ini runs pytest and mypy in its envs.
    const tox = detect(
      {
        "tox.ini":
          "[tox]\nenvlist = py311\n[testenv]\ndeps = pytest\ncommands =\n    pytest {posargs}\n[testenv:type]\ncommands = mypy pkg\n"
      },
      ["setup.py"]
    )
    assert.deepStrictEqual(
      tox.verification.map(([n]) => n),
      ["typecheck", "test"]
    )
    // Nothing configured: the standard library's unittest, and notes that say what is missing.
    const bare = detect({ "setup.py": "" })
    assert.deepStrictEqual(argv(bare), ["test: {python} -m unittest discover -q"])
    assert.strictEqual(bare.notes.length, 3)
  })

  it("writes [workspace] out explicitly, copying the version file a setuptools-scm project generates", () => {
    const d = detect({ "pyproject.toml": '[tool.setuptools_scm]\nversion_file = "src/pkg/_version.py"\n' }, ["src"])
    assert.deepStrictEqual(d.copy, ["src/pkg/_version.py"])
    const { config } = parseConfig(renderInitialConfig(d), "spec-orch.toml")
    assert.deepStrictEqual(config!.workspace.copy, ["src/pkg/_version.py"])
    assert.match(
      renderInitialConfig(detect({ "go.mod": "" })),
      /\[workspace\]\n(#.*\n)*provision = true\n(#.*\n)*copy = \[\]\n(#.*\n)*link = \[\]\n/
    )
  })

  it("writes a commented config that loads without a single problem", () => {
    for (const files of [{ "package.json": '{"scripts":{"test":"node --test"}}' }, { "go.mod": "" }, {}]) {
      const text = renderInitialConfig({ ...detect(files), baseBranch: "trunk" })
      const { config, problems } = parseConfig(text, "spec-orch.toml")
      assert.deepStrictEqual(problems, [])
      assert.strictEqual(config!.github.base_branch, "trunk")
      assert.match(text, /^# spec-orch configuration/)
    }
  })
})
