/**
 * The checks before work starts (`run`, `run-plan`, the daemon): the gate can judge it and the sandbox
 * can hold it. Apart from gate.run.ts, whose reading commands never load the execution plane.
 */
import { Project } from "@spec-orch/contract"
import { Console, Effect } from "effect"
import { ExitCode, setExitCode } from "../Output.js"
import { withProject } from "../ProjectScope.js"
import { gatePreflight } from "./gate.run.js"

/**
 * Whether the OS sandbox can do what `[sandbox] mode = "required"` demands here; when it cannot, says
 * why and how to fix it (exit 2) before anything is created.
 */
export const sandboxPreflight = (what: string) =>
  // The execution plane loads here, on demand: the gate's reading commands never need it.
  Effect.flatMap(
    Effect.promise(() => import("@spec-orch/execution")),
    ({ Sandbox, turnReachesNetwork }) =>
      withProject(Sandbox.layer)(
        Effect.gen(function* () {
          const sandbox = yield* Sandbox
          if (sandbox.mode !== "required") return true
          const probe = yield* sandbox.probe
          const { config } = yield* Project
          if (
            probe.available &&
            (probe.network || !turnReachesNetwork(config.builder.adapter, config.sandbox.allow_hosts))
          )
            return true
          const problem = !probe.available
            ? (probe.problem ?? "bubblewrap is unavailable")
            : "socat is not installed, so a boxed agent could reach no model provider: install it (Debian/Ubuntu: apt-get install socat)"
          yield* Console.error(
            `spec-orch: cannot ${what}: the sandbox is required ([sandbox] mode = "required") but cannot start on this machine: ${problem}\nNothing was started. Fix that (\`spec-orch doctor\` checks it), or set [sandbox] mode = "best-effort" or "off".`
          )
          yield* setExitCode(ExitCode.usage)
          return false
        })
      )
  )

/** Every check that must pass before work starts: the gate can judge it, and the sandbox can hold it. */
export const preflight = (
  what: string,
  profileOf: string | undefined | ((project: Project["Service"]) => string | undefined)
) => Effect.flatMap(gatePreflight(what, profileOf), (ok) => (ok ? sandboxPreflight(what) : Effect.succeed(false)))
