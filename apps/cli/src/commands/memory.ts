/** `spec-orch memory status|recall|search|list|show|add|forget|compact|reindex`: what spec-orch remembers from earlier runs (docs/memory.md). */
import { Argument, Command, Flag } from "effect/cli"
import { lazy } from "../Lazy.js"
import { jsonFlag } from "../Root.js"

const load = () => import("./memory.run.js")

const scope = Flag.String("scope").pipe(
  Flag.withDescription(
    "Only entries about this entity, <type>:<id> with type issue, mission, file, adapter or project (e.g. file:src/x.ts); repeat for any of several"
  ),
  Flag.atLeast(0)
)
const layer = Flag.Literals("layer", ["working", "episodic", "semantic", "procedural"]).pipe(
  Flag.withDescription("Only entries of this layer"),
  Flag.optional
)
const kind = Flag.String("kind").pipe(
  Flag.withDescription(
    "Only entries of this kind (run-outcome, failed-condition, verification-failed, finding, review, …)"
  ),
  Flag.optional
)
const tag = Flag.String("tag").pipe(
  Flag.withDescription("Only entries with this tag (e.g. adapter:codex, outcome:fail); repeat: all of them"),
  Flag.atLeast(0)
)
const limit = Flag.Int("limit").pipe(Flag.withDescription("At most this many entries"), Flag.withDefault(10))
const asOf = Flag.String("as-of").pipe(
  Flag.withDescription("What memory held at this moment (ISO time, e.g. 2026-12-01T10:00:00Z) instead of now"),
  Flag.optional
)
const all = Flag.Boolean("all").pipe(
  Flag.withDescription("Include superseded and forgotten entries"),
  Flag.withDefault(false)
)

const recallFlags = {
  query: Argument.String("query").pipe(Argument.withDescription("Words to look for (any language)")),
  scope,
  layer,
  kind,
  tag,
  limit,
  asOf,
  json: jsonFlag
}
const recallText =
  "Find entries by full text, best match first (entries with every word before entries with some); with [memory] embedding_model, fused with vector similarity, each result saying which ranking found it"

const recall = Command.make("recall", recallFlags, lazy(load, "recall", { reads: true })).pipe(
  Command.withDescription(recallText)
)

/** The original's name for recall. */
const search = Command.make("search", recallFlags, lazy(load, "recall", { reads: true })).pipe(
  Command.withDescription(`Same as recall: ${recallText}`)
)

const list = Command.make(
  "list",
  { scope, layer, kind, tag, limit, asOf, all, json: jsonFlag },
  lazy(load, "list", { reads: true })
).pipe(Command.withDescription("List entries, newest first"))

const show = Command.make(
  "show",
  { id: Argument.String("id").pipe(Argument.withDescription("Entry id, e.g. mem-1a2b3c4d5e6f")), json: jsonFlag },
  lazy(load, "show", { reads: true })
).pipe(Command.withDescription("Show one entry and every version of its key"))

const forget = Command.make(
  "forget",
  { id: Argument.String("id").pipe(Argument.withDescription("Entry id, e.g. mem-1a2b3c4d5e6f")), json: jsonFlag },
  lazy(load, "forget")
).pipe(
  Command.withDescription(
    "Stop using an entry: its validity ends now; it stays in history (`memory show`, `memory list --all`)"
  )
)

const compact = Command.make(
  "compact",
  {
    olderThan: Flag.String("older-than").pipe(
      Flag.withDescription(
        "Fold episodic entries that began longer ago than this: a number and m, h, d or w (e.g. 30d)"
      ),
      Flag.withDefault("30d")
    ),
    json: jsonFlag
  },
  lazy(load, "compact")
).pipe(
  Command.withDescription(
    "Fold each scope's old episodic entries into one semantic summary; the folded entries stay in history (`--as-of`, `memory show`)"
  )
)

const status = Command.make("status", { json: jsonFlag }, lazy(load, "status", { reads: true })).pipe(
  Command.withDescription(
    "What memory holds: entries per layer and kind, closed ones by reason, the database, the last recording and whether the full-text index is whole"
  )
)

const add = Command.make(
  "add",
  {
    text: Argument.String("text").pipe(
      Argument.withDescription('The note, e.g. "run the parser tests with --runInBand"')
    ),
    scope: Flag.String("scope").pipe(
      Flag.withDescription(
        "What the note is about, <type>:<id> (e.g. issue:SPC-1, file:src/x.ts, project:main); repeat for several; at least one"
      ),
      Flag.atLeast(0)
    ),
    kind: Flag.String("kind").pipe(Flag.withDescription("What sort of entry"), Flag.withDefault("note")),
    layer: Flag.Literals("layer", ["working", "episodic", "semantic", "procedural"]).pipe(
      Flag.withDescription("Its layer"),
      Flag.withDefault("procedural" as const)
    ),
    tag,
    by: Flag.String("by").pipe(Flag.withDescription("Who wrote it (default: git config user.name)"), Flag.optional),
    json: jsonFlag
  },
  lazy(load, "add")
).pipe(
  Command.withDescription(
    "Remember a person's note (procedural by default); adding the same note again changes nothing"
  )
)

const reindex = Command.make("reindex", { json: jsonFlag }, lazy(load, "reindex")).pipe(
  Command.withDescription(
    "Rebuild the full-text index from every entry (when `memory status` says the index is not whole); with [memory] embedding_model, embed the entries holding now that have no vector yet"
  )
)

const profile = Command.make("profile", { json: jsonFlag }, lazy(load, "profile", { reads: true })).pipe(
  Command.withDescription(
    "What runs and memory show about the project: its stack, verification commands, hot files, adapters (with 95% intervals), failure patterns, success recipes and trends"
  )
)

export const memory = Command.make("memory").pipe(
  Command.withDescription(
    "What spec-orch remembers from earlier runs: status, recall (search), list, show, add, forget, compact, reindex, profile"
  ),
  Command.withSubcommands([status, recall, search, list, show, add, forget, compact, reindex, profile])
)
