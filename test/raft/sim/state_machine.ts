// The simulated state machine of one node. It is durable the way LevelDB is with the applied index
// written in the same batch as the data: whatever apply() did survives a crash.
import { decodeConfChange } from "../../../src/raft/confchange";
import { EntryType, type ConfState, type Entry, type SnapshotMeta } from "../../../src/raft/types";

const decoder = new TextDecoder();

export interface AppliedCommand {
  index: number;
  payload: string;
}

/** A copy of a state machine, as streamed to a follower. */
export interface StateMachineSnapshot {
  meta: SnapshotMeta;
  commands: AppliedCommand[];
}

export function payloadOf(entry: Entry): string {
  return decoder.decode(entry.data);
}

export class SimStateMachine {
  appliedIndex: number;
  appliedTerm: number;
  conf: ConfState;
  /** Commands applied, in order (normal entries with data). */
  commands: AppliedCommand[] = [];
  private payloads = new Set<string>();

  constructor(initial: SnapshotMeta) {
    this.appliedIndex = initial.index;
    this.appliedTerm = initial.term;
    this.conf = cloneConf(initial.conf);
  }

  has(payload: string): boolean {
    return this.payloads.has(payload);
  }

  /** Applies one committed entry; returns the command payload it carried, if any. */
  apply(entry: Entry): string | null {
    this.appliedIndex = entry.index;
    this.appliedTerm = entry.term;
    if (entry.type === EntryType.ConfChange) {
      this.conf = cloneConf(decodeConfChange(entry.data).conf);
      return null;
    }
    if (entry.data.length === 0) return null;
    const payload = payloadOf(entry);
    this.commands.push({ index: entry.index, payload });
    this.payloads.add(payload);
    return payload;
  }

  snapshot(): StateMachineSnapshot {
    return {
      meta: { index: this.appliedIndex, term: this.appliedTerm, conf: cloneConf(this.conf) },
      commands: this.commands.slice(),
    };
  }

  install(snap: StateMachineSnapshot): void {
    this.appliedIndex = snap.meta.index;
    this.appliedTerm = snap.meta.term;
    this.conf = cloneConf(snap.meta.conf);
    this.commands = snap.commands.slice();
    this.payloads = new Set(this.commands.map((c) => c.payload));
  }
}

export function cloneConf(c: ConfState): ConfState {
  return { voters: [...c.voters], learners: [...c.learners] };
}
