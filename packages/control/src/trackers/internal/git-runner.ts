/**
 * What `runGit` loads on its first call: execution's inert git runner and the host's environment. A
 * module of its own, imported by name, so a bundler that follows named imports to their modules (the
 * CLI's) takes these two and not all of execution and the harness.
 */
import { makeGitRunner } from "@spec-orch/execution"
import { hostEnvironment } from "@spec-orch/harness"

export { hostEnvironment, makeGitRunner }
