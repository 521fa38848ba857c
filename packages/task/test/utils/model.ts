/**
 * A LanguageModel built with `LanguageModel.make` that answers with scripted texts in order and
 * records every prompt it was sent. It implements the effect/ai interface; no HTTP involved.
 */
import { Effect, Layer, Stream } from "effect"
import { AiError, LanguageModel, type Prompt } from "effect/ai"

/** One scripted answer: response text, or a provider failure. */
export type Answer = string | AiError.AiError

/** A scripted model and the prompts it received. */
export const scriptedModel = (answers: ReadonlyArray<Answer>) => {
  const prompts: Array<Prompt.Prompt> = []
  const queue = [...answers]
  const layer = Layer.effect(
    LanguageModel.LanguageModel,
    LanguageModel.make({
      generateText: (options) =>
        Effect.gen(function* () {
          prompts.push(options.prompt)
          const next = queue.shift()
          if (next === undefined) return yield* Effect.die(new Error("the scripted model has no more answers"))
          if (typeof next !== "string") return yield* next
          return [{ type: "text" as const, text: next }]
        }),
      streamText: () => Stream.die(new Error("streaming is not scripted"))
    })
  )
  return { layer, prompts }
}

/** All text of a prompt, message by message: `role: text`. */
export const promptText = (prompt: Prompt.Prompt): Array<string> =>
  prompt.content.map(
    (m) => `${m.role}: ${typeof m.content === "string" ? m.content : m.content.map((p: any) => p.text ?? "").join("")}`
  )

/** A provider failure that must not be retried (bad API key). */
export const authFailure = () =>
  AiError.make({
    module: "Scripted",
    method: "generateText",
    reason: new AiError.AuthenticationError({ kind: "InvalidKey", description: "invalid x-api-key" })
  })
