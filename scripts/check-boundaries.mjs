#!/usr/bin/env node
// Enforces the plane import rules of ARCHITECTURE.md §2 mechanically, on two levels:
//   1. each package.json may depend only on the planes its plane is allowed to import;
//   2. each source file may import only external packages its package.json declares, and only
//      allowed planes (so an undeclared or transitive import cannot sneak an edge in).
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
  cli: ["contract", "task", "harness", "evidence", "execution", "control", "evolution"]
}
/** The evidence plane must stay embeddable: these are its only runtime dependencies. */
export const EVIDENCE_RUNTIME = ["effect", "zod", "yaml", "@spec-orch/contract"]
/** Private support packages: who may import them from src/ (tests may import any of them). */
export const SUPPORT = { sqlite: ["control", "cli"], "test-kit": [] }
/** Only the app may import the Node platform layer. */
const APP_ONLY = ["@effect/platform-node", "@effect/platform-node-shared"]

const walk = (dir) => readdirSync(dir).flatMap((n) => {
  const p = join(dir, n)
  return statSync(p).isDirectory() ? (n === "node_modules" || n === "dist" ? [] : walk(p)) : /\.(ts|mts|js|mjs)$/.test(n) ? [p] : []
})

const packageOf = (spec) => spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0]

export const check = (root) => {
  const problems = []
  const units = [
    ...readdirSync(join(root, "packages")).map((n) => ({ plane: n, dir: join(root, "packages", n) })),
    { plane: "cli", dir: join(root, "apps", "cli") }
  ].filter((u) => existsSync(join(u.dir, "package.json")))
  for (const { plane, dir } of units) {
    const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"))
    const allowed = ALLOWED[plane]
    if (!allowed) { problems.push(`${relative(root, dir)}: unknown plane "${plane}" (add it to ALLOWED in scripts/check-boundaries.mjs)`); continue }
    const runtime = { ...pkg.dependencies, ...pkg.peerDependencies }
    for (const dep of Object.keys(runtime)) {
      if (dep.startsWith("@spec-orch/") && dep.slice(11) in SUPPORT) { if (!SUPPORT[dep.slice(11)].includes(plane)) problems.push(`${relative(root, dir)}/package.json: ${dep} is test support; declare it in devDependencies only`); continue }
      if (dep.startsWith("@spec-orch/") && !allowed.includes(dep.slice(11))) problems.push(`${relative(root, dir)}/package.json: @spec-orch/${plane} may not depend on ${dep} (allowed: ${allowed.join(", ") || "no planes"})`)
      if (plane !== "cli" && APP_ONLY.includes(dep)) problems.push(`${relative(root, dir)}/package.json: only apps/cli may depend on ${dep}`)
    }
    if (plane === "evidence") {
      for (const dep of Object.keys(pkg.dependencies ?? {})) if (!EVIDENCE_RUNTIME.includes(dep)) problems.push(`${relative(root, dir)}/package.json: the evidence plane must stay embeddable; runtime dependency ${dep} is not allowed (only ${EVIDENCE_RUNTIME.join(", ")})`)
    }
    const declared = new Set([...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.peerDependencies ?? {}), ...Object.keys(pkg.devDependencies ?? {})])
    const srcDir = join(dir, "src")
    if (!existsSync(srcDir)) continue
    for (const file of walk(srcDir)) {
      const text = readFileSync(file, "utf8")
      const re = /(?:^|[^.\w])(?:import|export)\s[^'"]*?from\s*["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)|^\s*import\s*["']([^"']+)["']/gm
      for (const m of text.matchAll(re)) {
        const spec = m[1] ?? m[2] ?? m[3]
        if (spec.startsWith(".") || spec.startsWith("node:") || builtinModules.includes(spec)) continue
        const name = packageOf(spec)
        const line = text.slice(0, m.index).split("\n").length
        const where = `${relative(root, file)}:${line}`
        if (name.startsWith("@spec-orch/") && name.slice(11) in SUPPORT) {
          if (!SUPPORT[name.slice(11)].includes(plane)) problems.push(`${where}: ${name} is test support; src/ of ${plane} may not import it`)
        } else if (name.startsWith("@spec-orch/")) {
          const target = name.slice(11)
          if (!allowed.includes(target)) problems.push(`${where}: ${plane} may not import ${name} (allowed: ${allowed.join(", ") || "no planes"})`)
        } else if (plane !== "cli" && APP_ONLY.includes(name)) {
          problems.push(`${where}: only apps/cli may import ${name}; planes use effect's platform abstractions`)
        } else if (!declared.has(name)) {
          problems.push(`${where}: imports ${name}, which ${relative(root, dir)}/package.json does not declare`)
        } else if (plane === "evidence" && !EVIDENCE_RUNTIME.includes(name) && !(pkg.peerDependencies ?? {})[name]) {
          problems.push(`${where}: the evidence plane must stay embeddable; ${name} is not one of ${EVIDENCE_RUNTIME.join(", ")}`)
        }
      }
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
