/**
 * What execution's tests provide besides the services under test: the platform, a redactor over an
 * empty environment, and the sandbox — `off` for tests of supervision mechanics (they read pids the
 * command wrote, which mean nothing outside its PID namespace), `required` for tests that must prove
 * behaviour inside the box (they fail, not skip, where the box cannot start).
 */
import { NodeServices } from "@effect/platform-node"
import { Redactor } from "@spec-orch/harness"
import { Layer } from "effect"
import { Sandbox, type SandboxMode } from "../../src/index.js"

/** Platform, redactor and a sandbox in `mode`. */
export const testServices = (mode: SandboxMode) =>
  Layer.mergeAll(Sandbox.layerMode(mode), Redactor.layerFrom({})).pipe(Layer.provideMerge(NodeServices.layer))

/** Unconfined: supervision mechanics only. */
export const Unboxed = testServices("off")

/** In the OS sandbox; fails where it cannot start. */
export const Boxed = testServices("required")
