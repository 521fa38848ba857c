/**
 * Ports for test servers that must be named before they start (a runner address in a config file, a
 * webhook port): picked by the kernel and distinct from one another.
 */
import { type AddressInfo, createServer, type Server } from "node:net"

/**
 * `count` distinct ports nothing listens on right now, on 127.0.0.1. All are held open until every one
 * is chosen: a port closed before the next pick may be picked again, and two servers given one port
 * fail with EADDRINUSE. (A fixed range is worse: it is inside Linux's ephemeral range, where outgoing
 * connections take ports too.)
 */
export const freePorts = async (count: number): Promise<ReadonlyArray<number>> => {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<Server>((resolve, reject) => {
          const server = createServer()
          server.once("error", reject)
          server.listen(0, "127.0.0.1", () => resolve(server))
        })
    )
  )
  const ports = servers.map((s) => (s.address() as AddressInfo).port)
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))))
  return ports
}
