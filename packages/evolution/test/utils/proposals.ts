/**
 * Set-up shared by the tests of proposals in use: a fixture issue, and the proposal store over a fresh
 * SQLite file (with ProposalRules over it where a test needs the rules and skills in use).
 */
import { Issue } from "@spec-orch/contract"
import { Redactor } from "@spec-orch/harness"
import { SqliteClient } from "@spec-orch/sqlite"
import { Layer, Schema } from "effect"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { ProposalRules, Proposals } from "../../src/index.js"

/** A fixture issue with the given target files and labels. */
export const fixtureIssue = (
  id: string,
  options: { readonly targetFiles?: ReadonlyArray<string>; readonly labels?: ReadonlyArray<string> } = {}
) =>
  Schema.decodeUnknownSync(Issue)({
    id,
    title: "Add a greeting",
    summary: "greet() returns hello",
    acceptanceCriteria: [],
    constraints: [],
    filesToRead: [],
    targetFiles: options.targetFiles ?? [],
    labels: options.labels ?? [],
    origin: { kind: "fixture", ref: `fixtures/issues/${id}.json` }
  })

/** The proposal store over a fresh SQLite file in a temporary directory named after `prefix`. */
export const proposalsLayer = (prefix: string) =>
  Proposals.layer.pipe(
    Layer.provide(
      Layer.mergeAll(
        SqliteClient.layer({ filename: join(mkdtempSync(join(tmpdir(), `${prefix}-`)), "state.db") }),
        Redactor.layerFrom({})
      )
    )
  )

/** ProposalRules over a fresh proposal store (both provided). */
export const proposalRulesLayer = (prefix: string) => ProposalRules.pipe(Layer.provideMerge(proposalsLayer(prefix)))
