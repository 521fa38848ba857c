/** Who is acting, for approvals and acceptances: `--by`, else git's user.name, else $USER. */
import { execFileSync } from "node:child_process"
import { Effect, Option } from "effect"

export const whoAmI = (explicit: Option.Option<string>): Effect.Effect<string> =>
  Option.match(explicit, {
    onSome: Effect.succeed,
    onNone: () =>
      Effect.sync(() => {
        try {
          const name = execFileSync("git", ["config", "user.name"], {
            encoding: "utf8",
            stdio: ["ignore", "pipe", "ignore"]
          }).trim()
          if (name !== "") return name
        } catch {
          // fall through to $USER
        }
        return process.env.USER ?? process.env.USERNAME ?? "unknown"
      })
  })
