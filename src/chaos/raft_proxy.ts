// A fault-injecting TCP proxy in front of one node's Raft port. Peers dial the proxy (the node
// advertises the proxy's port with --raft-advertise-addr); the proxy reads the Hello frame that
// opens every peer connection to learn who is dialing, then forwards to the real port.
//
// Each node dials each peer on its own connection, so "traffic from A to B" is exactly the
// connections A opened to B's proxy (plus the snapshot acks B writes back on them). That lets the
// proxy cut one direction at a time:
// - block(from): drop the connections from `from` now and refuse new ones (after their Hello);
// - delay(from, ms): hold bytes from `from` for `ms` before forwarding.
// A symmetric partition between A and B is block on both proxies; a one-way one is one block.
// Buffers are bounded: a source is paused while too many of its bytes wait to be forwarded.
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { decodeWireFrame } from "../transport/message_wire";

/** Largest first frame accepted (a Hello is a few dozen bytes). */
const MAX_HELLO_BYTES = 64 * 1024;
/** Bytes held for one connection (before upstream connects, or delayed) before the source is paused. */
const MAX_HELD_BYTES = 4 * 1024 * 1024;

export interface RaftProxyStats {
  accepted: number;
  refused: number;
  dropped: number;
}

export class RaftProxy {
  private server: Server | null = null;
  private readonly blocked = new Set<string>();
  private readonly delays = new Map<string, number>();
  private readonly links = new Set<ProxyLink>();
  readonly stats: RaftProxyStats = { accepted: 0, refused: 0, dropped: 0 };

  constructor(
    /** Id of the node behind this proxy (for messages). */
    readonly nodeId: string,
    readonly host: string,
    readonly listenPort: number,
    readonly targetPort: number,
  ) {}

  async start(): Promise<void> {
    const server = createServer((socket) => this.accept(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.listenPort, this.host, () => resolve());
    });
  }

  /** Cut traffic from `from` to this node: drop its connections, refuse new ones. */
  block(from: string): void {
    this.blocked.add(from);
    for (const link of this.links) {
      if (link.from === from) {
        this.stats.dropped++;
        link.destroy();
      }
    }
  }

  unblock(from: string): void {
    this.blocked.delete(from);
  }

  isBlocked(from: string): boolean {
    return this.blocked.has(from);
  }

  /** Hold bytes from `from` for `ms` before forwarding (0: none). Applies to new and open connections. */
  setDelay(from: string, ms: number): void {
    if (ms > 0) this.delays.set(from, ms);
    else this.delays.delete(from);
  }

  delayOf(from: string): number {
    return this.delays.get(from) ?? 0;
  }

  /** Remove every block and delay (open connections stay). */
  heal(): void {
    this.blocked.clear();
    this.delays.clear();
  }

  async close(): Promise<void> {
    for (const link of this.links) link.destroy();
    this.links.clear();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private accept(socket: Socket): void {
    const link = new ProxyLink(socket, this);
    this.links.add(link);
    socket.once("close", () => this.links.delete(link));
  }

  /** Called by a link once it has read the Hello: may it go on? */
  admit(from: string): boolean {
    if (this.blocked.has(from)) {
      this.stats.refused++;
      return false;
    }
    this.stats.accepted++;
    return true;
  }
}

/** One proxied connection: source (the dialing peer) -> upstream (the node's real Raft port). */
class ProxyLink {
  from: string | null = null;
  private upstream: Socket | null = null;
  private upstreamReady = false;
  /** Bytes from the source not yet written upstream (before connect, or delayed). */
  private readonly held: { due: number; chunk: Buffer }[] = [];
  private heldBytes = 0;
  private helloBuf: Buffer = Buffer.alloc(0);
  private timer: ReturnType<typeof setTimeout> | null = null;
  private waitingDrain = false;
  private closed = false;

  constructor(
    private readonly source: Socket,
    private readonly proxy: RaftProxy,
  ) {
    source.setNoDelay(true);
    source.on("data", (chunk: Buffer) => this.onSourceData(chunk));
    source.on("error", () => this.destroy());
    source.on("close", () => this.destroy());
  }

  destroy(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.held.length = 0;
    this.heldBytes = 0;
    this.source.destroy();
    this.upstream?.destroy();
  }

  private onSourceData(chunk: Buffer): void {
    if (this.closed) return;
    if (this.from === null) {
      this.readHello(chunk);
      return;
    }
    this.forward(chunk);
  }

  private readHello(chunk: Buffer): void {
    this.helloBuf = Buffer.concat([this.helloBuf, chunk]);
    if (this.helloBuf.length < 4) return;
    const length = this.helloBuf.readUInt32BE(0);
    if (length > MAX_HELLO_BYTES) return this.destroy();
    if (this.helloBuf.length < 4 + length) return;
    let from: string | undefined;
    try {
      from = decodeWireFrame(this.helloBuf.subarray(4, 4 + length)).hello?.from;
    } catch {
      from = undefined;
    }
    if (!from || !this.proxy.admit(from)) return this.destroy();
    this.from = from;
    const first = this.helloBuf;
    this.helloBuf = Buffer.alloc(0);
    this.connectUpstream();
    this.forward(first);
  }

  private connectUpstream(): void {
    const up = createConnection({ host: this.proxy.host, port: this.proxy.targetPort });
    this.upstream = up;
    up.setNoDelay(true);
    up.on("connect", () => {
      this.upstreamReady = true;
      this.flush();
    });
    // Bytes the node writes back (snapshot chunk acks) go to the source unchanged.
    up.on("data", (chunk: Buffer) => {
      if (!this.closed && !this.source.write(chunk)) {
        up.pause();
        this.source.once("drain", () => up.resume());
      }
    });
    up.on("drain", () => {
      this.waitingDrain = false;
      this.flush();
    });
    up.on("error", () => this.destroy());
    up.on("close", () => this.destroy());
  }

  private forward(chunk: Buffer): void {
    const delay = this.proxy.delayOf(this.from as string);
    this.held.push({ due: performance.now() + delay, chunk });
    this.heldBytes += chunk.length;
    if (this.heldBytes > MAX_HELD_BYTES) this.source.pause();
    this.flush();
  }

  /** Write every held chunk whose time has come, while upstream accepts them. */
  private flush(): void {
    if (this.closed || !this.upstreamReady || this.timer || this.waitingDrain) return;
    const up = this.upstream as Socket;
    while (this.held.length > 0) {
      const head = this.held[0];
      const wait = head.due - performance.now();
      if (wait > 0) {
        this.timer = setTimeout(() => {
          this.timer = null;
          this.flush();
        }, Math.ceil(wait));
        return;
      }
      this.held.shift();
      this.heldBytes -= head.chunk.length;
      const more = up.write(head.chunk);
      if (this.heldBytes <= MAX_HELD_BYTES / 2) this.source.resume();
      if (!more) {
        this.waitingDrain = true;
        return;
      }
    }
  }
}
