// The faulty network: loses, duplicates and delays packets (delays reorder them), and applies
// partitions, including one-way ones, at delivery time.
import type { NodeId } from "../../../src/raft/types";
import type { Packet } from "./packet";
import type { NetworkSettings } from "./params";
import type { World } from "./world";

export class Network {
  /** Directed links that are cut, as "from>to". */
  private readonly cut = new Set<string>();
  /** Off in the final phase: no loss, duplication or delay spikes. */
  faulty = true;

  constructor(
    private readonly world: World,
    private readonly settings: NetworkSettings,
  ) {}

  send(packet: Packet): void {
    const w = this.world;
    if (packet.kind === "raft") w.counters.messagesSent++;
    if (this.faulty && w.rng.chance(this.settings.lossRate)) {
      w.counters.drop++;
      if (packet.kind === "snapshotChunk") w.counters.snapshotChunkLost++;
      return;
    }
    this.schedule(packet);
    if (this.faulty && w.rng.chance(this.settings.duplicateRate)) {
      w.counters.duplicate++;
      this.schedule(packet);
    }
  }

  private schedule(packet: Packet): void {
    const w = this.world;
    let delay = w.rng.int(this.settings.minDelay, this.settings.maxDelay);
    if (this.faulty && w.rng.chance(this.settings.delaySpikeRate)) {
      w.counters.delaySpike++;
      delay = w.rng.int(this.settings.maxDelay, this.settings.maxSpikeDelay);
    }
    w.events.push(w.now + delay, w.rng.next(), { kind: "packet", packet });
  }

  /** Whether a packet arriving now reaches a running receiver that is the one it was sent to. */
  deliverable(packet: Packet): boolean {
    const from = this.world.nodes.get(packet.from);
    const to = this.world.nodes.get(packet.to);
    if (!from || !to || !to.alive) return false;
    if (from.incarnation !== packet.fromIncarnation || !from.alive) return false;
    if (to.incarnation !== packet.toIncarnation) return false;
    return !this.cut.has(`${packet.from}>${packet.to}`);
  }

  /** `to` stops hearing `from`. */
  cutLink(from: NodeId, to: NodeId): void {
    this.cut.add(`${from}>${to}`);
  }

  /** No packet crosses between the two groups, either way. */
  split(a: NodeId[], b: NodeId[]): void {
    for (const x of a) {
      for (const y of b) {
        this.cutLink(x, y);
        this.cutLink(y, x);
      }
    }
  }

  heal(): void {
    this.cut.clear();
  }

  get partitioned(): boolean {
    return this.cut.size > 0;
  }
}
