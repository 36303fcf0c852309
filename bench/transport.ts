// Peer transport micro-benchmark: two transports in one process on loopback (so the figures
// include both the sending and the receiving side's CPU). Run: npx bun bench/transport.ts
import { EntryType, type Message } from "../src/raft/types";
import { PeerTransport } from "../src/transport/peer_transport";

interface Scenario {
  name: string;
  /** Messages handed to send() per event-loop turn. */
  perTurn: number;
  entriesPerMessage: number;
  entryBytes: number;
  totalMessages: number;
}

const scenarios: Scenario[] = [
  { name: "app 1x100B, 1 msg/turn", perTurn: 1, entriesPerMessage: 1, entryBytes: 100, totalMessages: 20_000 },
  { name: "app 1x100B, 16 msgs/turn", perTurn: 16, entriesPerMessage: 1, entryBytes: 100, totalMessages: 200_000 },
  { name: "app 1x100B, 256 msgs/turn", perTurn: 256, entriesPerMessage: 1, entryBytes: 100, totalMessages: 500_000 },
  { name: "app 64x1KiB, 4 msgs/turn", perTurn: 4, entriesPerMessage: 64, entryBytes: 1024, totalMessages: 10_000 },
];
const REPETITIONS = 3;
/** Sender stays at most this many turns ahead of the receiver (Raft's inflight limit in spirit). */
const MAX_TURNS_AHEAD = 8;

function appMessages(s: Scenario, firstIndex: number): Message[] {
  const data = new Uint8Array(s.entryBytes).fill(7);
  return Array.from({ length: s.perTurn }, (_, i) => ({
    type: "app" as const,
    from: "a",
    to: "b",
    term: 3,
    prevIndex: firstIndex + i * s.entriesPerMessage,
    prevTerm: 3,
    commit: firstIndex,
    entries: Array.from({ length: s.entriesPerMessage }, (_, k) => ({
      term: 3,
      index: firstIndex + i * s.entriesPerMessage + k + 1,
      type: EntryType.Normal,
      data,
    })),
  }));
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

async function runOnce(s: Scenario): Promise<{ msgsPerSec: number; mbPerSec: number; frames: number }> {
  let received = 0;
  const b = await PeerTransport.listen({
    id: "b",
    listenAddr: "127.0.0.1:0",
    handler: { onMessages: (msgs) => void (received += msgs.length), onSnapshot: async () => false },
  });
  const a = await PeerTransport.listen({
    id: "a",
    listenAddr: "127.0.0.1:0",
    handler: { onMessages: () => {}, onSnapshot: async () => false },
  });
  a.setPeer("b", b.listenAddr);
  a.send(appMessages(s, 0));
  while (received < s.perTurn) await turn(); // connected and warm
  received = 0;
  const before = a.stats().peers.b;
  const batch = appMessages(s, 1000);
  const start = performance.now();
  let sent = 0;
  while (received < s.totalMessages) {
    if (sent < s.totalMessages && sent - received < MAX_TURNS_AHEAD * s.perTurn) {
      a.send(batch);
      sent += s.perTurn;
    }
    await turn();
  }
  const seconds = (performance.now() - start) / 1000;
  const after = a.stats().peers.b;
  await a.close();
  await b.close();
  if (after.messagesDropped !== before.messagesDropped) throw new Error("messages were dropped during the benchmark");
  return {
    msgsPerSec: s.totalMessages / seconds,
    mbPerSec: (after.bytesSent - before.bytesSent) / seconds / 1e6,
    frames: after.framesSent - before.framesSent,
  };
}

function summary(values: number[], digits: number): string {
  const sorted = [...values].sort((x, y) => x - y);
  const f = (v: number) => v.toFixed(digits);
  return `${f(sorted[Math.floor(sorted.length / 2)])} (${f(sorted[0])}..${f(sorted[sorted.length - 1])})`;
}

console.log(`peer transport, Bun ${Bun.version}, ${REPETITIONS} repetitions: median (min..max)`);
for (const s of scenarios) {
  await runOnce({ ...s, totalMessages: Math.ceil(s.totalMessages / 10) }); // warm-up
  const runs = [];
  for (let i = 0; i < REPETITIONS; i++) runs.push(await runOnce(s));
  const msgsPerFrame = (s.totalMessages / runs[0].frames).toFixed(1);
  console.log(
    `${s.name.padEnd(28)} msgs/s ${summary(runs.map((r) => r.msgsPerSec), 0).padEnd(28)} MB/s ${summary(runs.map((r) => r.mbPerSec), 1).padEnd(22)} msgs/frame ${msgsPerFrame}`,
  );
}
