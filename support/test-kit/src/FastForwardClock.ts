/**
 * A clock for tests of code that waits out rate limits: it runs with the wall clock, but a wait
 * `skip` picks (default: under 10 s) ends at once and moves this clock forward by its length, so the
 * code under test sees the time pass without the test spending it. Other sleeps (request timeouts
 * racing a real answer) stay real. Hand `now` to the fakes (`fakeGitHub({ now })`) so their
 * rate-limit windows and request times follow the same clock.
 */
import { Clock, Duration, Effect } from "effect"

export interface FastForwardClock {
  /** Provide it with `Effect.provideService(Clock.Clock, clock)`. */
  readonly clock: Clock.Clock
  /** This clock's time in epoch milliseconds. */
  readonly now: () => number
  /** The waits skipped so far, in milliseconds, oldest first. */
  readonly skipped: ReadonlyArray<number>
}

export const fastForwardClock = (options: { readonly skip?: (millis: number) => boolean } = {}): FastForwardClock => {
  const skip = options.skip ?? ((millis) => millis < 10_000)
  let offsetMs = 0
  const skipped: Array<number> = []
  const live = Clock.Clock.defaultValue()
  const now = () => Date.now() + offsetMs
  const nanos = () => BigInt(Math.round(now() * 1_000_000))
  const monotonic = () => process.hrtime.bigint() + BigInt(offsetMs) * 1_000_000n
  const clock: Clock.Clock = {
    currentTimeMillisUnsafe: now,
    currentTimeMillis: Effect.sync(now),
    currentTimeNanosUnsafe: nanos,
    currentTimeNanos: Effect.sync(nanos),
    monotonicTimeNanosUnsafe: monotonic,
    monotonicTimeNanos: Effect.sync(monotonic),
    sleep: (duration) => {
      const ms = Duration.toMillis(duration)
      if (!skip(ms)) return live.sleep(duration)
      return Effect.andThen(
        Effect.sync(() => {
          skipped.push(ms)
          offsetMs += ms
        }),
        Effect.yieldNow
      )
    }
  }
  return { clock, now, skipped }
}
