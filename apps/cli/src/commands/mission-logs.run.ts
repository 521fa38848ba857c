/** Handler for `spec-orch mission logs <mission> [--follow]`: every packet run's events, interleaved. */
import { missionStatus, type RunEvent, RunStore } from "@spec-orch/control"
import { Console, Effect } from "effect"
import { withPlanes } from "../Planes.js"
import { describeRunEvent } from "../Progress.js"

const FINISHED = new Set(["completed", "failed", "archived"])

export const missionLogs = (input: { mission: string; follow: boolean; json: boolean }) =>
  withPlanes(
    Effect.gen(function* () {
      const store = yield* RunStore
      /** The last sequence number printed, per run. */
      const printed = new Map<string, number>()
      const width = { value: 0 }
      const print = (packet: string, e: RunEvent) => {
        if (input.json) return Console.log(JSON.stringify({ packet, ...e }))
        const line =
          describeRunEvent(e) ?? (e.kind === "stage" ? `▸ ${(e.data as { stage: string }).stage}` : undefined)
        return line === undefined
          ? Effect.void
          : Console.log(
              `[${packet}]${" ".repeat(Math.max(0, width.value - packet.length))} ${e.at.slice(11, 19)} ${line}`
            )
      }
      /** Prints what is new since the last round; returns whether the mission is still going. */
      const round = Effect.gen(function* () {
        const status = yield* missionStatus(input.mission)
        const packets = status.waves.flatMap((w) => w.packets)
        width.value = Math.max(0, ...packets.map((p) => p.packetId.length))
        const fresh: Array<{ packet: string; event: RunEvent }> = []
        for (const p of packets) {
          // Every attempt of the packet, oldest first.
          const runs = [...(yield* store.list({ issueId: p.runKey }))].reverse()
          for (const r of runs) {
            const last = printed.get(r.runId)
            const events = yield* last === undefined ? store.events(r.runId) : store.events(r.runId, last)
            for (const event of events) fresh.push({ packet: p.packetId, event })
            if (events.length > 0) printed.set(r.runId, events[events.length - 1]!.seq)
          }
        }
        fresh.sort((a, b) => (a.event.at < b.event.at ? -1 : a.event.at > b.event.at ? 1 : 0))
        yield* Effect.forEach(fresh, (f) => print(f.packet, f.event), { discard: true })
        return {
          running: !FINISHED.has(status.status) || packets.some((p) => p.state === "running"),
          any: printed.size > 0 || fresh.length > 0
        }
      })
      let state = yield* round
      if (!input.follow && !state.any && !input.json)
        yield* Console.error(
          `No packet of mission ${input.mission} has run yet; start it with \`spec-orch run-plan ${input.mission}\`.`
        )
      while (input.follow && state.running) {
        yield* Effect.sleep("500 millis")
        state = yield* round
      }
    })
  )
