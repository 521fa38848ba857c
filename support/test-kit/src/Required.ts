/**
 * Suites that need a real service (a PostgreSQL server, an agent CLI) fail when it is missing, so CI
 * cannot go green without running them; a person without the service opts out explicitly with an
 * environment variable, and the skipped suite says so in its name.
 */
import { it } from "vitest"

export interface RequiredService {
  /** What the suite needs, for people: "a PostgreSQL server". */
  readonly what: string
  /** Whether it is there. */
  readonly present: boolean
  /** How to provide it: "set SPEC_ORCH_PG_URL to …". */
  readonly howTo: string
  /** The variable that, set to 1, skips the suites instead (local runs only; CI never sets it). */
  readonly optOut: string
}

export interface Requirement {
  /** Whether the suites that need the service run. */
  readonly run: boolean
  /** A suite's name, saying why it is skipped when it is. */
  readonly title: (name: string) => string
}

/**
 * Call at the top level of a test file. When the service is missing and `optOut` is not 1, registers
 * one failing test that names what is missing, how to provide it and how to opt out.
 */
export const requireService = (service: RequiredService): Requirement => {
  if (service.present) return { run: true, title: (name) => name }
  const optedOut = process.env[service.optOut] === "1"
  if (!optedOut) {
    it(`needs ${service.what}`, () => {
      throw new Error(
        `${service.what} is missing: ${service.howTo}. To skip the tests that need it on this machine, set ${service.optOut}=1.`
      )
    })
  }
  return { run: false, title: (name) => `${name} (skipped without ${service.what}: ${service.optOut}=1)` }
}

/** The PostgreSQL server of the store suites: `SPEC_ORCH_PG_URL` (CI's .ci/run starts one and sets it). */
export const requirePostgres = (): Requirement & { readonly url: string | undefined } => {
  const url = process.env.SPEC_ORCH_PG_URL
  return {
    url,
    ...requireService({
      what: "a PostgreSQL server",
      present: url !== undefined && url !== "",
      howTo:
        "set SPEC_ORCH_PG_URL to a server where you may create databases, e.g. postgres://postgres@127.0.0.1:55432/postgres (.ci/run starts one)",
      optOut: "SPEC_ORCH_SKIP_POSTGRES"
    })
  }
}
