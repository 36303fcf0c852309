// One simulated server: its durable state (log storage and state machine) and, while it runs, a
// Raft core built from that durable state.
import { Raft } from "../../../src/raft/raft";
import { MemoryStorage } from "../../../src/raft/memory_storage";
import type { ConfState, NodeId, RaftConfig, Ready, Role } from "../../../src/raft/types";
import type { CoreSettings } from "./params";
import type { Rng } from "./prng";
import { SimStateMachine, type StateMachineSnapshot } from "./state_machine";

export function snapshotKey(index: number, term: number): string {
  return `${index}/${term}`;
}

export class SimNode {
  readonly storage: MemoryStorage;
  readonly sm: SimStateMachine;
  raft: Raft | null = null;
  incarnation = 0;
  /** Shut down for good (a removed member); never restarted. */
  retired = false;
  /** When crashed: the tick at which it comes back. */
  restartAt = 0;
  /** A paused process (GC pause, SIGSTOP) neither ticks nor handles anything before this tick. */
  pausedUntil = 0;
  /** A Ready whose write is in flight: ready() must not be called again before its advance(). */
  pendingWrite: Ready | null = null;
  /** Snapshots received whole, waiting for the core to hand them back in a Ready. */
  readonly staged = new Map<string, StateMachineSnapshot>();
  /** What the checker last saw of this incarnation. */
  lastRole: Role | null = null;
  lastTerm = 0;
  lastCommit = 0;
  /** Highest index whose commit this node's durable hard state claimed (already recorded). */
  commitRecorded = 0;

  constructor(
    readonly id: NodeId,
    conf: ConfState,
    private readonly settings: CoreSettings,
    private readonly rngRoot: Rng,
    private readonly logger: (id: NodeId, event: string) => void,
  ) {
    const initial = { index: 0, term: 0, conf };
    this.storage = new MemoryStorage(initial);
    this.sm = new SimStateMachine(initial);
  }

  get alive(): boolean {
    return this.raft !== null;
  }

  /** Builds a fresh core from the durable state, as a process start does. */
  start(): void {
    this.incarnation++;
    const random = this.rngRoot.fork(`raft:${this.id}:${this.incarnation}`);
    const config: RaftConfig = {
      id: this.id,
      ...this.settings,
      random: () => random.next(),
      applied: this.sm.appliedIndex,
      logger: (event) => this.logger(this.id, event),
    };
    this.raft = new Raft(config, this.storage);
    this.lastRole = null;
    this.lastTerm = 0;
    this.lastCommit = 0;
  }

  /** Loses everything not durable: the core, the write in flight, staged snapshots. */
  crash(): void {
    this.raft = null;
    this.pendingWrite = null;
    this.staged.clear();
  }

  isPaused(now: number): boolean {
    return this.pausedUntil > now;
  }

  core(): Raft {
    if (!this.raft) throw new Error(`${this.id} is not running`);
    return this.raft;
  }
}
