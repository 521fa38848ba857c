/**
 * The harness plane as one layer over a project: prompt envelopes, compliance contracts, the LLM
 * roles' models, the diff's secret scan and redaction. Apps and embedders provide it; nothing inside
 * the plane does. What the builder is offered (`Learnings`) and the HTTP client come from the caller.
 */
import type { InvalidFile, Project } from "@spec-orch/contract"
import { type FileSystem, Layer, type Path } from "effect"
import type { HttpClient } from "effect/http"
import { Compliance } from "./Compliance.js"
import { ContextAssembler } from "./ContextAssembler.js"
import type { Learnings } from "./Learnings.js"
import { Models } from "./Models.js"
import { Redactor } from "./Redaction.js"
import { SecretScan } from "./SecretScan.js"

/**
 * `ContextAssembler`, `Compliance`, `Models`, `SecretScan` and `Redactor` over the project, a
 * `Learnings` (`Learnings.layerNone` offers nothing) and an `HttpClient` (nothing is sent until a
 * model is called). Fails with `InvalidFile` when `compliance.contracts.yaml` is invalid.
 */
export const HarnessPlane: Layer.Layer<
  ContextAssembler | Compliance | Models | SecretScan | Redactor,
  InvalidFile,
  Project | Learnings | HttpClient.HttpClient | FileSystem.FileSystem | Path.Path
> = Layer.mergeAll(ContextAssembler.layer, Compliance.layer, Models.layer, SecretScan.layer).pipe(
  Layer.provideMerge(Redactor.layer)
)
