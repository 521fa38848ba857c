/**
 * Which host paths a box makes empty: credential stores under the user's home and the runtime
 * directory holding the host's service sockets. The rule: hiding is by resolved real path, so a
 * symlinked `~/.aws` is hidden where it really lives, and a path that does not exist is skipped.
 */
import { Effect, FileSystem, Path } from "effect"
import type { HiddenPath } from "./bwrap-args.js"

/**
 * Hidden in every box. `~/` is the host user's home. `/run` (also reached as `/var/run`) holds Unix
 * sockets that a network namespace does not cut off — the Docker and containerd sockets, D-Bus and
 * systemd (as root, a way out of any box), ssh-agent and gpg-agent under `/run/user/<uid>`.
 */
export const DEFAULT_HIDDEN: ReadonlyArray<string> = [
  "~/.ssh",
  "~/.gnupg",
  "~/.aws",
  "~/.azure",
  "~/.config/gcloud",
  "~/.kube",
  "~/.docker",
  "~/.config/containers/auth.json",
  "~/.config/gh",
  "~/.config/hub",
  "~/.config/glab-cli",
  "~/.git-credentials",
  "~/.config/git/credentials",
  "~/.netrc",
  "~/.npmrc",
  "~/.yarnrc.yml",
  "~/.pypirc",
  "~/.config/pip",
  "~/.gem/credentials",
  "~/.cargo/credentials",
  "~/.cargo/credentials.toml",
  "~/.m2/settings.xml",
  "~/.gradle/gradle.properties",
  "~/.terraform.d/credentials.tfrc.json",
  "~/.vault-token",
  "~/.pgpass",
  "~/.my.cnf",
  "~/.password-store",
  "~/.local/share/keyrings",
  "~/.claude",
  "~/.claude.json",
  "~/.codex",
  "~/.factory",
  "~/.gemini",
  "~/.local/share/opencode",
  "~/.config/opencode",
  "~/.config/spec-orch",
  "/run"
]

/** Expands `~/` to `home` and makes a relative path absolute against `base`. */
export const expandPath = (path: Path.Path, entry: string, home: string, base: string): string =>
  entry === "~" ? home : entry.startsWith("~/") ? path.join(home, entry.slice(2)) : path.resolve(base, entry)

/** The entries that exist, by real path, each once, with their kind; `/` itself is never hidden. */
export const resolveHidden = Effect.fnUntraced(function* (entries: ReadonlyArray<string>, home: string, base: string) {
  const fs = yield* FileSystem.FileSystem
  const path = yield* Path.Path
  // Looked up concurrently: this runs before every agent turn and verification step.
  const found = yield* Effect.forEach(
    entries,
    (entry) =>
      fs.realPath(expandPath(path, entry, home, base)).pipe(
        Effect.flatMap((real) =>
          Effect.map(
            fs.stat(real),
            (info): HiddenPath => ({ path: real, kind: info.type === "Directory" ? "dir" : "file" })
          )
        ),
        Effect.option
      ),
    { concurrency: "unbounded" }
  )
  const out: Array<HiddenPath> = []
  for (const h of found)
    if (h._tag === "Some" && h.value.path !== "/" && !out.some((x) => x.path === h.value.path)) out.push(h.value)
  return out as ReadonlyArray<HiddenPath>
})
