/**
 * An issue's title and criteria for a read command that shows a run or a verdict, from the configured
 * issue source when it can be read. Apart from gate.run.ts so that `gate evaluate --evidence` (which shows
 * no issue) does not load the issue formats.
 */
import { type Issue, IssueSource } from "@spec-orch/contract"
import { Console, Duration, Effect, Option } from "effect"

/** How long a read command waits for the tracker before showing an issue without its title and criteria. */
export const ISSUE_LOOKUP_WAIT = Duration.seconds(5)

/**
 * The issue from the configured source, when it can be read (it only adds a title and criteria). With
 * `within`, a tracker that has not answered by then (each request may wait 30 s and be retried) is given
 * up on with a note on stderr, so a read command stays quick; `accept-issue` passes none, as the criteria
 * are what a person accepts.
 */
export const issueIfKnown = (id: string, within?: Duration.Duration) =>
  Effect.serviceOption(IssueSource).pipe(
    Effect.flatMap(
      Option.match({
        onNone: () => Effect.succeed(undefined as Issue | undefined),
        onSome: (source) => {
          const read = source.get(id).pipe(
            Effect.map((i): Issue | undefined => i),
            Effect.orElseSucceed(() => undefined)
          )
          return within === undefined
            ? read
            : read.pipe(
                Effect.timeoutOrElse({
                  duration: within,
                  orElse: () =>
                    Effect.as(
                      Console.error(
                        `spec-orch: the issue tracker did not answer within ${Duration.format(within)}; ${id} is shown without its title and acceptance criteria`
                      ),
                      undefined
                    )
                })
              )
        }
      })
    )
  )
