/**
 * The host side of a box's network: an HTTP proxy that lets through only allowed host names (CONNECT
 * for https, absolute-URI requests for http) and plain forwarders to ports on the host's loopback, each
 * on a Unix socket in a private directory. Node callback code at the edge; the `Sandbox` service wraps
 * it as a scoped resource. The rule: a name is allowed only by `hostAllowed`, and every refusal or
 * failure is recorded so the run's evidence can say what the box was kept from.
 */
import { mkdtempSync, rmSync } from "node:fs"
import {
  createServer as createHttpServer,
  type IncomingMessage,
  request as httpRequest,
  type Server as HttpServer,
  type ServerResponse
} from "node:http"
import { connect, createServer as createNetServer, type Server, type Socket } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { Duplex } from "node:stream"
import type { NetworkRefusal } from "../../Sandbox.js"
import type { NetworkLayout } from "./bwrap-args.js"

/** Distinct refusals kept per box; repeats only raise a count. */
const MAX_REFUSALS = 200

/** True when `host` is one of `patterns`: an exact name, or `*.example.com` for any name below it. Case and a trailing dot do not matter. */
export const hostAllowed = (host: string, patterns: ReadonlyArray<string>): boolean => {
  const h = normalize(host)
  if (h === "") return false
  return patterns.some((p) => {
    const n = normalize(p)
    return n.startsWith("*.") ? h.endsWith(n.slice(1)) && h.length > n.length - 1 : h === n
  })
}

const normalize = (s: string) =>
  s
    .trim()
    .toLowerCase()
    .replace(/\.$/, "")
    .replace(/^\[(.*)\]$/, "$1")

/** A running set of relays: the layout for the box, what was refused, and how to stop them. */
export interface Relays {
  readonly layout: NetworkLayout
  readonly refused: () => ReadonlyArray<NetworkRefusal>
  readonly close: () => Promise<void>
}

/** Options of `startRelays`. */
export interface RelayOptions {
  readonly hosts: ReadonlyArray<string>
  readonly forwards: ReadonlyArray<number>
  /** Port of the proxy inside the box (chosen by the caller so it differs from every forward). */
  readonly proxyPort: number
}

/** Starts the proxy (when any host is allowed) and one forwarder per port; resolves once all listen. */
export const startRelays = async (options: RelayOptions): Promise<Relays> => {
  const socketDir = mkdtempSync(join(tmpdir(), "spec-orch-net-"))
  const open = new Set<Duplex>()
  const track = (s: Duplex) => {
    open.add(s)
    s.on("close", () => open.delete(s))
  }
  const refusals = new Map<string, { -readonly [K in keyof NetworkRefusal]: NetworkRefusal[K] }>()
  const refuse = (host: string, port: number, reason: NetworkRefusal["reason"], detail: string) => {
    const key = `${reason} ${host}:${port}`
    const seen = refusals.get(key)
    if (seen !== undefined) seen.count += 1
    else if (refusals.size < MAX_REFUSALS) {
      const message =
        reason === "not-allowed"
          ? `refused network access to ${host}:${port}: not an allowed host`
          : `could not reach allowed host ${host}:${port}: ${detail}`
      refusals.set(key, { host, port, reason, detail, count: 1, message })
    }
  }
  const servers: Array<Server | HttpServer> = []
  const listen = (server: Server | HttpServer, socket: string) =>
    new Promise<void>((resolve, reject) => {
      server.once("error", reject)
      server.listen(socket, () => {
        server.off("error", reject)
        resolve()
      })
    })

  const close = async () => {
    for (const s of open) s.destroy()
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))))
    rmSync(socketDir, { recursive: true, force: true })
  }

  try {
    let proxy: NetworkLayout["proxy"]
    if (options.hosts.length > 0) {
      const socket = join(socketDir, "proxy.sock")
      const server = makeProxy(options.hosts, refuse, track)
      servers.push(server)
      await listen(server, socket)
      proxy = { port: options.proxyPort, socket }
    }
    const forwards: Array<{ port: number; socket: string }> = []
    for (const port of [...new Set(options.forwards)]) {
      const socket = join(socketDir, `port-${port}.sock`)
      const server = createNetServer((inside) => {
        track(inside)
        const host = connect(port, "127.0.0.1")
        track(host)
        pipeBoth(inside, host)
      })
      servers.push(server)
      await listen(server, socket)
      forwards.push({ port, socket })
    }
    return {
      layout: { socketDir, proxy, forwards },
      refused: () => [...refusals.values()].map((r) => ({ ...r })),
      close
    }
  } catch (e) {
    await close()
    throw e
  }
}

/** Joins two sockets; either side ending or failing ends both. */
const pipeBoth = (a: Duplex, b: Duplex) => {
  a.pipe(b)
  b.pipe(a)
  a.on("error", () => b.destroy())
  b.on("error", () => a.destroy())
  a.on("close", () => b.destroy())
  b.on("close", () => a.destroy())
}

const body = (text: string) => `${text}\n`

/** Writes a complete HTTP/1.1 error response on a raw socket (after CONNECT) and closes it. */
const rawError = (socket: Duplex, status: string, text: string) => {
  const b = body(text)
  socket.end(
    `HTTP/1.1 ${status}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(b)}\r\nConnection: close\r\n\r\n${b}`
  )
}

const notAllowedText = (host: string, hosts: ReadonlyArray<string>) =>
  `spec-orch sandbox: network access to ${host} is not allowed (allowed: ${hosts.join(", ")}). ` +
  `Add it to [sandbox] allow_hosts in spec-orch.toml if the task needs it.`

/** Splits CONNECT's `host:port` (IPv6 in brackets); undefined when malformed. */
const authority = (value: string): { host: string; port: number } | undefined => {
  const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(value)
  if (m === null) return undefined
  const port = Number(m[2])
  return port > 0 && port < 65536 ? { host: m[1]!.replace(/^\[(.*)\]$/, "$1"), port } : undefined
}

const HOP_BY_HOP = new Set([
  "proxy-connection",
  "proxy-authorization",
  "connection",
  "keep-alive",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade"
])

const makeProxy = (
  hosts: ReadonlyArray<string>,
  refuse: (host: string, port: number, reason: NetworkRefusal["reason"], detail: string) => void,
  track: (s: Duplex) => void
): HttpServer => {
  const server = createHttpServer((req: IncomingMessage, res: ServerResponse) => {
    track(req.socket)
    let url: URL
    try {
      url = new URL(req.url ?? "")
    } catch {
      res
        .writeHead(400, { "content-type": "text/plain; charset=utf-8" })
        .end(body("spec-orch sandbox proxy: send an absolute-URI request (http://host/path) or CONNECT host:port"))
      return
    }
    const port = url.port === "" ? 80 : Number(url.port)
    const host = url.hostname.replace(/^\[(.*)\]$/, "$1")
    if (url.protocol !== "http:") {
      res
        .writeHead(400, { "content-type": "text/plain; charset=utf-8" })
        .end(body(`spec-orch sandbox proxy: ${url.protocol} is not proxied here; use CONNECT for https`))
      return
    }
    if (!hostAllowed(host, hosts)) {
      refuse(host, port, "not-allowed", `${req.method} ${url.origin}`)
      res.writeHead(403, { "content-type": "text/plain; charset=utf-8" }).end(body(notAllowedText(host, hosts)))
      return
    }
    const headers: Record<string, string | Array<string>> = {}
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) headers[k] = v
    const upstream = httpRequest(
      { host, port, method: req.method, path: `${url.pathname}${url.search}`, headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.statusMessage, up.headers)
        up.pipe(res)
      }
    )
    upstream.on("error", (e: NodeJS.ErrnoException) => {
      refuse(host, port, "unreachable", e.code ?? e.message)
      if (!res.headersSent)
        res
          .writeHead(502, { "content-type": "text/plain; charset=utf-8" })
          .end(body(`spec-orch sandbox: could not reach ${host}:${port} (${e.code ?? e.message})`))
      else res.destroy()
    })
    req.pipe(upstream)
  })
  server.on("connect", (req: IncomingMessage, client: Socket, head: Buffer) => {
    track(client)
    client.on("error", () => client.destroy())
    const target = authority(req.url ?? "")
    if (target === undefined) {
      rawError(
        client,
        "400 Bad Request",
        `spec-orch sandbox proxy: CONNECT needs host:port, got ${JSON.stringify(req.url)}`
      )
      return
    }
    if (!hostAllowed(target.host, hosts)) {
      refuse(target.host, target.port, "not-allowed", `CONNECT ${target.host}:${target.port}`)
      rawError(client, "403 Forbidden", notAllowedText(target.host, hosts))
      return
    }
    const upstream = connect(target.port, target.host)
    track(upstream)
    let connected = false
    upstream.once("connect", () => {
      connected = true
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n")
      if (head.length > 0) upstream.write(head)
      pipeBoth(client, upstream)
    })
    upstream.once("error", (e: NodeJS.ErrnoException) => {
      if (connected) return // pipeBoth ends both sides
      refuse(target.host, target.port, "unreachable", e.code ?? e.message)
      rawError(
        client,
        "502 Bad Gateway",
        `spec-orch sandbox: could not reach ${target.host}:${target.port} (${e.code ?? e.message})`
      )
    })
  })
  return server
}
