#!/usr/bin/env node
// Enforces the plane import rules of ARCHITECTURE.md §2 mechanically, on three levels:
//   1. each package.json may depend only on the planes its plane is allowed to import;
//   2. each source file may import only external packages its package.json declares as dependencies
//      or peerDependencies (a devDependency is not installed for users), and only allowed planes (so an
//      undeclared or transitive import cannot sneak an edge in);
//   3. every dependency and peerDependency is imported by some source file (no dead weight for users).
// Covers packages/*, apps/cli and the private support/* packages.
// Usage: node scripts/check-boundaries.mjs [root]   (exit 1 and one line per violation)
import { readdirSync, readFileSync, statSync, existsSync } from "node:fs"
import { join, relative } from "node:path"
import { builtinModules } from "node:module"

export const ALLOWED = {
  contract: [],
  task: ["contract"],
  harness: ["contract"],
  evidence: ["contract"],
  execution: ["contract", "harness"],
  control: ["contract", "task", "harness", "evidence", "execution"],
  evolution: ["contract", "task", "harness", "evidence"],
  cli: ["contract", "task", "harness", "evidence", "execution", "control", "evolution"],
  sqlite: [],
  "test-kit": []
}
/** The evidence plane must stay embeddable: these are its only runtime dependencies. */
export const EVIDENCE_RUNTIME = ["effect", "zod", "yaml", "@spec-orch/contract"]
/** Private support packages: who may import them from src/ (tests may import any of them). */
export const SUPPORT = { sqlite: ["control", "cli"], "test-kit": [] }
/**
 * Packages whose build bundles their imports into one file (apps/cli's tsup config): they may import a
 * devDependency (it is inlined), and a runtime dependency counts as used when the source of a bundled
 * workspace package imports it (better-sqlite3, a native addon the bundle keeps external).
 */
export const BUNDLED = ["cli"]
/** Only the app may import the Node platform layer. */
const APP_ONLY = ["@effect/platform-node", "@effect/platform-node-shared"]

const walk = (dir) =>
  readdirSync(dir).flatMap((n) => {
    const p = join(dir, n)
    return statSync(p).isDirectory()
      ? n === "node_modules" || n === "dist"
        ? []
        : walk(p)
      : /\.(ts|mts|js|mjs)$/.test(n)
        ? [p]
        : []
  })

const packageOf = (spec) => (spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0])

/** Every package-name import of the files under dir/src: [{ name, file, index, text }]. */
const importsOf = (dir) => {
  const srcDir = join(dir, "src")
  const found = []
  for (const file of existsSync(srcDir) ? walk(srcDir) : []) {
    const text = readFileSync(file, "utf8")
    const re =
      /(?:^|[^.\w])(?:import|export)\s[^'"]*?from\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)|^\s*import\s*["']([^"']+)["']/gm
    for (const m of text.matchAll(re)) {
      const spec = m[1] ?? m[2] ?? m[3]
      if (spec.startsWith(".") || spec.startsWith("node:") || builtinModules.includes(spec)) continue
      // The match may start at the character before `import` (a newline): point at the keyword's line.
      found.push({ name: packageOf(spec), file, index: m.index + m[0].search(/import|export/), text })
    }
  }
  return found
}

const unitOf = (units, name) =>
  units.find((u) => JSON.parse(readFileSync(join(u.dir, "package.json"), "utf8")).name === name)

/** The external imports of every workspace package reachable from `own` (what a bundle inlines). */
const workspaceClosure = (units, own) => {
  const names = new Set()
  const seen = new Set()
  const queue = own.map((i) => i.name).filter((n) => n.startsWith("@spec-orch/"))
  while (queue.length > 0) {
    const ws = queue.pop()
    if (seen.has(ws)) continue
    seen.add(ws)
    const unit = unitOf(units, ws)
    if (!unit) continue
    for (const { name } of importsOf(unit.dir)) {
      if (name.startsWith("@spec-orch/")) queue.push(name)
      else names.add(name)
    }
  }
  return names
}

/**
 * A plane with no code yet (its src imports nothing, e.g. evolution's `export {}`) keeps the plane
 * edges and peers it declares, and a dependency on such a plane is not yet dead weight; both stop
 * being exempt as soon as the plane imports anything.
 */
const placeholder = (units, own, dep) => {
  if (own.length === 0) return true
  const unit = dep.startsWith("@spec-orch/") ? unitOf(units, dep) : undefined
  return unit !== undefined && importsOf(unit.dir).length === 0
}

export const check = (root) => {
  const problems = []
  const units = [
    ...readdirSync(join(root, "packages")).map((n) => ({ plane: n, dir: join(root, "packages", n) })),
    { plane: "cli", dir: join(root, "apps", "cli") },
    ...(existsSync(join(root, "support"))
      ? readdirSync(join(root, "support")).map((n) => ({ plane: n, dir: join(root, "support", n) }))
      : [])
  ].filter((u) => existsSync(join(u.dir, "package.json")))
  for (const { plane, dir } of units) {
    const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"))
    const allowed = ALLOWED[plane]
    if (!allowed) {
      problems.push(
        `${relative(root, dir)}: unknown plane "${plane}" (add it to ALLOWED in scripts/check-boundaries.mjs)`
      )
      continue
    }
    const runtime = { ...pkg.dependencies, ...pkg.peerDependencies }
    for (const dep of Object.keys(runtime)) {
      if (dep.startsWith("@spec-orch/") && dep.slice(11) in SUPPORT) {
        if (!SUPPORT[dep.slice(11)].includes(plane))
          problems.push(
            `${relative(root, dir)}/package.json: ${dep} is test support; declare it in devDependencies only`
          )
        continue
      }
      if (dep.startsWith("@spec-orch/") && !allowed.includes(dep.slice(11)))
        problems.push(
          `${relative(root, dir)}/package.json: @spec-orch/${plane} may not depend on ${dep} (allowed: ${allowed.join(", ") || "no planes"})`
        )
      if (plane !== "cli" && APP_ONLY.includes(dep))
        problems.push(`${relative(root, dir)}/package.json: only apps/cli may depend on ${dep}`)
    }
    if (plane === "evidence") {
      for (const dep of Object.keys(pkg.dependencies ?? {}))
        if (!EVIDENCE_RUNTIME.includes(dep))
          problems.push(
            `${relative(root, dir)}/package.json: the evidence plane must stay embeddable; runtime dependency ${dep} is not allowed (only ${EVIDENCE_RUNTIME.join(", ")})`
          )
    }
    const index = join(dir, "src", "index.ts")
    if (plane !== "cli" && existsSync(index)) {
      // A public API is a named list: `export *` exports whatever a module grows, and internal/ is not API.
      readFileSync(index, "utf8")
        .split("\n")
        .forEach((line, i) => {
          const where = `${relative(root, index)}:${i + 1}`
          if (/^\s*export\s+(type\s+)?\*\s*from/.test(line))
            problems.push(`${where}: export * in a public index; list the names (export { a, type B } from "./M.js")`)
          if (/^\s*export\b.*from\s*["']\.\/internal\//.test(line))
            problems.push(`${where}: the public index exports internal/; move what others need to a public module`)
        })
    }
    const declared = new Set(Object.keys(runtime))
    const devOnly = new Set(Object.keys(pkg.devDependencies ?? {}).filter((d) => !declared.has(d)))
    const bundled = BUNDLED.includes(plane)
    const own = importsOf(dir)
    const imported = new Set(own.map((i) => i.name))
    if (bundled) for (const name of workspaceClosure(units, own)) imported.add(name)
    for (const { name, file, index, text } of own) {
      const where = `${relative(root, file)}:${text.slice(0, index).split("\n").length}`
      const manifest = `${relative(root, dir)}/package.json`
      if (name.startsWith("@spec-orch/") && name.slice(11) in SUPPORT) {
        if (!SUPPORT[name.slice(11)].includes(plane))
          problems.push(`${where}: ${name} is test support; src/ of ${plane} may not import it`)
        continue
      }
      if (name.startsWith("@spec-orch/") && !allowed.includes(name.slice(11))) {
        problems.push(`${where}: ${plane} may not import ${name} (allowed: ${allowed.join(", ") || "no planes"})`)
      } else if (plane !== "cli" && APP_ONLY.includes(name)) {
        problems.push(`${where}: only apps/cli may import ${name}; planes use effect's platform abstractions`)
      } else if (devOnly.has(name) && !bundled) {
        problems.push(
          `${where}: imports ${name}, a devDependency of ${manifest} that users of the package do not get; move it to dependencies or peerDependencies`
        )
      } else if (!declared.has(name) && !devOnly.has(name)) {
        problems.push(
          `${where}: imports ${name}, which ${manifest} does not declare in dependencies or peerDependencies`
        )
      } else if (plane === "evidence" && !EVIDENCE_RUNTIME.includes(name) && !(pkg.peerDependencies ?? {})[name]) {
        problems.push(
          `${where}: the evidence plane must stay embeddable; ${name} is not one of ${EVIDENCE_RUNTIME.join(", ")}`
        )
      }
    }
    for (const dep of Object.keys(runtime)) {
      if (placeholder(units, own, dep)) continue
      if (!imported.has(dep))
        problems.push(
          `${relative(root, dir)}/package.json: ${dep} is listed in ${dep in (pkg.dependencies ?? {}) ? "dependencies" : "peerDependencies"} but nothing under src/ imports it; remove it (or move it to devDependencies if only tests use it)`
        )
    }
  }
  return problems
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const root = process.argv[2] ?? process.cwd()
  const problems = check(root)
  for (const p of problems) console.error(p)
  console.log(problems.length === 0 ? "boundaries: ok" : `boundaries: ${problems.length} violation(s)`)
  process.exit(problems.length === 0 ? 0 : 1)
}
