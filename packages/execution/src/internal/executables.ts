/**
 * Finds an agent's executable: `[builder] executable`, else PATH, else the tool cache that
 * `scripts/install-agents.mjs` fills ($SPEC_ORCH_TOOLS or `<repo>/.tools/agents`). When npm left a
 * JS placeholder instead of the native binary (install scripts blocked), the platform package's
 * binary is used directly. `.js` entry points run with this Node.
 */
import {
  accessSync,
  closeSync,
  constants,
  existsSync,
  openSync,
  readFileSync,
  readSync,
  realpathSync,
  statSync
} from "node:fs"
import { delimiter, dirname, isAbsolute, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"

/** How to start an agent: the program and the arguments that come before the adapter's own. */
export interface Launcher {
  readonly executable: string
  readonly prefix: ReadonlyArray<string>
  /** Where the adapter looked, for the error when nothing was found. */
  readonly searched: ReadonlyArray<string>
}

const isExecutable = (path: string) => {
  try {
    accessSync(path, constants.X_OK)
    return statSync(path).isFile()
  } catch {
    return false
  }
}

/** Directories of the agent tool cache, most specific first. */
export const toolCacheBins = (): Array<string> => {
  const out: Array<string> = []
  const tools = process.env.SPEC_ORCH_TOOLS
  if (tools !== undefined && tools !== "") out.push(join(tools, "node_modules", ".bin"))
  const starts = [process.cwd()]
  try {
    starts.push(dirname(fileURLToPath(import.meta.url)))
  } catch {
    // bundled without a file URL
  }
  for (const start of starts) {
    let dir = resolve(start)
    for (;;) {
      const candidate = join(dir, ".tools", "agents", "node_modules", ".bin")
      if (existsSync(candidate) && !out.includes(candidate)) {
        out.push(candidate)
        break
      }
      const parent = dirname(dir)
      if (parent === dir) break
      dir = parent
    }
  }
  return out
}

/** Native binaries inside platform packages, for CLIs whose npm shim may be a placeholder. */
const PLATFORM_BINARIES: Record<string, ReadonlyArray<string>> = {
  claude: [`@anthropic-ai/claude-code-${process.platform}-${process.arch}/claude`],
  opencode: [
    `opencode-${process.platform}-${process.arch}/bin/opencode`,
    `opencode-${process.platform}-${process.arch}-baseline/bin/opencode`
  ],
  droid: [`@factory/cli-${process.platform}-${process.arch}/bin/droid`]
}

const isNative = (path: string) => {
  const fd = openSync(path, "r")
  try {
    const head = Buffer.alloc(4)
    readSync(fd, head, 0, 4, 0)
    const magic = head.readUInt32BE(0)
    return magic === 0x7f454c46 /* ELF */ || magic === 0xcffaedfe || magic === 0xcefaedfe || magic === 0xcafebabe
  } finally {
    closeSync(fd)
  }
}

/** The platform binary next to a placeholder shim, when there is one. */
const platformBinary = (name: string, shim: string): string | undefined => {
  const candidates = PLATFORM_BINARIES[name]
  if (candidates === undefined) return undefined
  let dir = dirname(realpathSync(shim))
  while (!dir.endsWith(`${"/"}node_modules`) && dirname(dir) !== dir) dir = dirname(dir)
  if (!dir.endsWith("node_modules")) return undefined
  for (const c of candidates) {
    const p = join(dir, c)
    if (isExecutable(p)) return p
  }
  return undefined
}

const launcherFor = (name: string, path: string, searched: Array<string>): Launcher => {
  const real = realpathSync(path)
  if (/\.(c|m)?js$/.test(real)) return { executable: process.execPath, prefix: [real], searched }
  if (!isNative(real) && statSync(real).size < 1_000_000) {
    const native = platformBinary(name, path)
    if (native !== undefined) return { executable: native, prefix: [], searched }
  }
  return { executable: path, prefix: [], searched }
}

/**
 * Finds `name`, trying `configured` first (a path, or a name looked up like `name`). `undefined`
 * when nothing runnable was found; `searched` says where we looked.
 */
export const findExecutable = (
  name: string,
  configured: string | undefined,
  env: Readonly<Record<string, string | undefined>> = process.env,
  /** Where a relative path (`./agent.sh`, `tools/agent`) is looked up: the worktree the agent runs in. */
  base?: string | undefined
): Launcher | { readonly executable: undefined; readonly searched: ReadonlyArray<string> } => {
  const searched: Array<string> = []
  const wanted = configured ?? name
  if (isAbsolute(wanted) || wanted.includes("/")) {
    const p = resolve(base ?? process.cwd(), wanted)
    searched.push(p)
    return isExecutable(p) ? launcherFor(name, p, searched) : { executable: undefined, searched }
  }
  const dirs = [...(env.PATH ?? "").split(delimiter).filter((d) => d !== ""), ...toolCacheBins()]
  for (const dir of dirs) {
    const p = join(dir, wanted)
    searched.push(dir)
    if (isExecutable(p)) return launcherFor(name, p, searched)
  }
  return { executable: undefined, searched }
}

/** The version of the npm package that holds `script` (for JS agents without `--version`). */
export const packageVersion = (script: string): string | undefined => {
  let dir = dirname(script)
  for (;;) {
    const manifest = join(dir, "package.json")
    if (existsSync(manifest)) {
      try {
        const v = JSON.parse(readFileSync(manifest, "utf8")).version
        return typeof v === "string" ? v : undefined
      } catch {
        return undefined
      }
    }
    const parent = dirname(dir)
    if (parent === dir) return undefined
    dir = parent
  }
}
