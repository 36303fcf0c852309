// The last events of a run, kept in a ring buffer and printed when an invariant fails.
import type { Message } from "../../../src/raft/types";

export interface TraceEvent {
  time: number;
  what: string;
  msg?: Message;
}

export function describeMessage(m: Message): string {
  const head = `${m.type} ${m.from}->${m.to} t${m.term}`;
  switch (m.type) {
    case "vote":
    case "preVote":
      return `${head} last=${m.lastIndex}/${m.lastTerm}${m.transfer ? " transfer" : ""}`;
    case "voteResp":
    case "preVoteResp":
      return `${head}${m.reject ? " REJECT" : " grant"}`;
    case "app": {
      const ents = m.entries.length === 0 ? "" : ` ents=${m.entries[0].index}..${m.entries[m.entries.length - 1].index}@${m.entries.map((e) => e.term).join(",")}`;
      return `${head} prev=${m.prevIndex}/${m.prevTerm}${ents} commit=${m.commit}`;
    }
    case "appResp":
      return `${head} ${m.reject ? `REJECT idx=${m.index} hint=${m.hintIndex}/${m.hintTerm}` : `ok idx=${m.index}`}`;
    case "heartbeat":
      return `${head} commit=${m.commit}${m.readSeq ? ` readSeq=${m.readSeq}` : ""}`;
    case "heartbeatResp":
      return `${head}${m.readSeq ? ` readSeq=${m.readSeq}` : ""}`;
    case "snap":
      return m.snapshot ? `${head} snapshot=${m.snapshot.index}/${m.snapshot.term} voters=${m.snapshot.conf.voters.join(",")}` : head;
    case "readIndex":
      return `${head} ctx=${m.ctx}`;
    case "readIndexResp":
      return `${head} ctx=${m.ctx} index=${m.index}${m.reject ? " REJECT" : ""}`;
    case "timeoutNow":
      return head;
  }
}

export class Trace {
  private readonly ring: (TraceEvent | undefined)[];
  private next = 0;
  /** When set, every event is also printed as it happens (SIM_TRACE=all). */
  constructor(
    size: number,
    private readonly echo: boolean,
  ) {
    this.ring = new Array<TraceEvent | undefined>(size);
  }

  record(time: number, what: string, msg?: Message): void {
    const ev: TraceEvent = { time, what, msg };
    if (this.echo) console.log(formatEvent(ev));
    this.ring[this.next] = ev;
    this.next = (this.next + 1) % this.ring.length;
  }

  lines(): string[] {
    const out: string[] = [];
    for (let i = 0; i < this.ring.length; i++) {
      const ev = this.ring[(this.next + i) % this.ring.length];
      if (ev) out.push(formatEvent(ev));
    }
    return out;
  }
}

function formatEvent(ev: TraceEvent): string {
  return `  [t=${ev.time}] ${ev.what}${ev.msg ? ` ${describeMessage(ev.msg)}` : ""}`;
}
