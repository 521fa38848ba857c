/**
 * The loopback HTTP plumbing shared by the fake tracker servers: a node:http server on 127.0.0.1
 * (port 0), a record of every request for assertions, and per-route fault injection (status,
 * headers, body, delay). Fakes decide what a route is and what a normal answer looks like.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"

/** One request the fake received, with the status it answered. */
export interface RecordedRequest {
  /** Milliseconds since the epoch when the request arrived (the fake's clock, for spacing checks). */
  readonly at: number
  readonly method: string
  /** Path and query string as sent. */
  readonly url: string
  /** The fake's name for the route (`GET /repos/{owner}/{repo}/issues`, `issues`, `commentCreate`). */
  readonly route: string
  readonly headers: Readonly<Record<string, string | undefined>>
  /** The parsed JSON body (or the raw text when it is not JSON; `undefined` when empty). */
  readonly body: unknown
  /** The HTTP status the fake answered with (0 until it answered). */
  status: number
}

/** A fault to inject on a route: answer with `status` (and `body`/`headers`), or only delay/add headers. */
export interface Fault {
  readonly status?: number
  readonly headers?: Readonly<Record<string, string>>
  /** The error body; when absent the fake answers with its usual body for `status`. */
  readonly body?: unknown
  /** Wait this long before answering (the request is still recorded on arrival). */
  readonly delayMs?: number
  /** How many matching requests this fault applies to (default 1; `Infinity` for all). */
  readonly times?: number
  /** Only requests whose query has these parameters (`{ page: "2" }`: the second page of a listing). */
  readonly query?: Readonly<Record<string, string>>
}

/** What a fake's handler answers. */
export interface Reply {
  readonly status: number
  readonly headers?: Readonly<Record<string, string>>
  readonly body?: unknown
}

/** A fault still armed, matched by route name (`*` matches every route). */
interface ArmedFault {
  readonly route: string
  readonly fault: Fault
  remaining: number
}

/** The incoming request as a fake's handler sees it. */
export interface Incoming {
  readonly method: string
  readonly url: URL
  readonly headers: Readonly<Record<string, string | undefined>>
  readonly body: unknown
  readonly rawBody: string
}

/** A running loopback server with recording and fault injection; fakes build on it. */
export class FakeHttpServer {
  /** Every request received so far, oldest first. */
  readonly requests: Array<RecordedRequest> = []
  private readonly faults: Array<ArmedFault> = []
  private server: Server | undefined
  private base = ""

  constructor(
    private readonly routeOf: (incoming: Incoming) => string,
    private readonly handle: (incoming: Incoming, route: string) => Reply | Promise<Reply>,
    private readonly faultBody: (status: number, route: string) => unknown,
    /** Headers added to every answer (rate-limit headers); computed after the answer is known. */
    private readonly extraHeaders: (route: string, reply: Reply) => Readonly<Record<string, string>> = () => ({}),
    /** The fake's clock in epoch milliseconds (requests' `at`). */
    private readonly now: () => number = Date.now
  ) {}

  /** `http://127.0.0.1:<port>` once started. */
  get origin(): string {
    return this.base
  }

  /** Starts listening on 127.0.0.1 on a free port. */
  async start(): Promise<this> {
    const server = createServer((req, res) => void this.serve(req, res))
    server.keepAliveTimeout = 1000
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject)
      server.listen(0, "127.0.0.1", () => resolve())
    })
    this.server = server
    this.base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    return this
  }

  /** Stops the server and drops open connections. */
  async close(): Promise<void> {
    const server = this.server
    if (server === undefined) return
    this.server = undefined
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }

  /** Arms a fault for `route` (`*` for every route). Later faults on the same route queue behind earlier ones. */
  fail(route: string, fault: Fault): void {
    this.faults.push({ route, fault, remaining: fault.times ?? 1 })
  }

  /** Removes every armed fault. */
  clearFaults(): void {
    this.faults.length = 0
  }

  /** The requests whose route is `route`. */
  requestsTo(route: string): Array<RecordedRequest> {
    return this.requests.filter((r) => r.route === route)
  }

  private takeFault(route: string, url: URL): Fault | undefined {
    const armed = this.faults.find(
      (f) =>
        f.remaining > 0 &&
        (f.route === route || f.route === "*") &&
        Object.entries(f.fault.query ?? {}).every(([k, v]) => url.searchParams.get(k) === v)
    )
    if (armed === undefined) return undefined
    armed.remaining -= 1
    return armed.fault
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Array<Buffer> = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const rawBody = Buffer.concat(chunks).toString("utf8")
    let body: unknown
    if (rawBody !== "") {
      try {
        body = JSON.parse(rawBody)
      } catch {
        body = rawBody
      }
    }
    const headers: Record<string, string | undefined> = {}
    for (const [k, v] of Object.entries(req.headers)) headers[k] = Array.isArray(v) ? v.join(", ") : v
    const incoming: Incoming = {
      method: req.method ?? "GET",
      url: new URL(req.url ?? "/", this.base),
      headers,
      body,
      rawBody
    }
    let route: string
    try {
      route = this.routeOf(incoming)
    } catch {
      route = `${incoming.method} ${incoming.url.pathname}`
    }
    const record: RecordedRequest = {
      at: this.now(),
      method: incoming.method,
      url: req.url ?? "/",
      route,
      headers,
      body,
      status: 0
    }
    this.requests.push(record)

    const fault = this.takeFault(route, incoming.url)
    if (fault?.delayMs !== undefined && fault.delayMs > 0) await new Promise((r) => setTimeout(r, fault.delayMs))
    let reply: Reply
    if (fault?.status !== undefined) {
      reply = { status: fault.status, body: fault.body ?? this.faultBody(fault.status, route) }
    } else {
      try {
        reply = await this.handle(incoming, route)
      } catch (error) {
        reply = { status: 500, body: { message: `fake server bug: ${String((error as Error)?.stack ?? error)}` } }
      }
    }
    const merged: Record<string, string> = {
      ...this.extraHeaders(route, reply),
      ...(reply.headers ?? {}),
      ...(fault?.headers ?? {})
    }
    record.status = reply.status
    if (res.destroyed) return
    const text =
      reply.body === undefined ? "" : typeof reply.body === "string" ? reply.body : JSON.stringify(reply.body)
    res.statusCode = reply.status
    if (reply.body !== undefined && merged["content-type"] === undefined) {
      res.setHeader(
        "content-type",
        typeof reply.body === "string" ? "text/plain; charset=utf-8" : "application/json; charset=utf-8"
      )
    }
    for (const [k, v] of Object.entries(merged)) res.setHeader(k, v)
    res.end(text)
  }
}

/** A fixed-window request budget like the ones trackers enforce, for the fakes' rate limiting. */
export class FixedWindow {
  private windowStart = 0
  private used = 0

  constructor(
    public limit: number,
    public windowMs: number,
    private readonly clock: () => number = Date.now
  ) {}

  /** Counts one request; false when the window's budget is already spent. */
  take(now = this.clock()): boolean {
    this.roll(now)
    if (this.used >= this.limit) return false
    this.used += 1
    return true
  }

  /** Requests left in the current window. */
  remaining(now = this.clock()): number {
    this.roll(now)
    return Math.max(0, this.limit - this.used)
  }

  /** Requests used in the current window. */
  usedCount(now = this.clock()): number {
    this.roll(now)
    return this.used
  }

  /** Epoch milliseconds when the current window ends. */
  resetAt(now = this.clock()): number {
    this.roll(now)
    return this.windowStart + this.windowMs
  }

  private roll(now: number): void {
    if (this.windowStart === 0 || now >= this.windowStart + this.windowMs) {
      this.windowStart = now
      this.used = 0
    }
  }
}
