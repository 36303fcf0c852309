// Everything that varies from seed to seed: cluster shape, core settings, fault rates, workload.
import type { Rng } from "./prng";

export interface CoreSettings {
  electionTicks: number;
  heartbeatTicks: number;
  maxBytesPerMessage: number;
  maxInflightMessages: number;
  maxUncommittedBytes: number;
  preVote: boolean;
  checkQuorum: boolean;
}

export interface NetworkSettings {
  minDelay: number;
  maxDelay: number;
  /** Probability that a packet is lost. */
  lossRate: number;
  /** Probability that a packet is delivered twice. */
  duplicateRate: number;
  /** Probability that a packet is held much longer than usual (reordering it past later ones). */
  delaySpikeRate: number;
  maxSpikeDelay: number;
}

export interface FaultSettings {
  /** Probability per tick that some fault event happens. */
  faultRate: number;
  /** Relative weights of the fault events. */
  weights: {
    partition: number;
    oneWayPartition: number;
    isolateLeader: number;
    heal: number;
    crash: number;
    pause: number;
    transferLeadership: number;
    campaign: number;
    confChange: number;
  };
  minDownTicks: number;
  maxDownTicks: number;
  /** Probability that a Ready's write completes some ticks later instead of at once. */
  diskDelayRate: number;
  maxDiskDelay: number;
  /** How many nodes the run may add to the cluster. */
  maxNewNodes: number;
  /** Probability that a removed node is shut down (it always is when pre-vote or check-quorum is off). */
  retireRemovedRate: number;
}

export interface WorkloadSettings {
  proposeRate: number;
  maxBatch: number;
  /** A client offers no more while the leader has this many entries not yet committed. */
  maxOutstanding: number;
  maxPayloadPadding: number;
  readRate: number;
  /** Compact the log when this many entries were applied past the compaction point. */
  compactEvery: number;
  /** How far below the applied index the compaction point may lag. */
  compactLag: number;
  snapshotChunks: number;
}

export interface SimParams {
  seed: number;
  clusterSize: number;
  chaosTicks: number;
  /** The final phase must elect, commit and converge within this many ticks. */
  livenessTicks: number;
  core: CoreSettings;
  network: NetworkSettings;
  faults: FaultSettings;
  workload: WorkloadSettings;
}

export interface ParamOverrides {
  chaosTicks?: number;
}

export function paramsForSeed(seed: number, rng: Rng, overrides: ParamOverrides = {}): SimParams {
  const electionTicks = rng.int(6, 14);
  const heartbeatTicks = rng.int(1, Math.max(1, Math.floor(electionTicks / 4)));
  const preVote = rng.chance(0.85);
  const checkQuorum = rng.chance(0.85);
  const core: CoreSettings = {
    electionTicks,
    heartbeatTicks,
    maxBytesPerMessage: rng.pick([1, 40, 200, 1 << 20]),
    maxInflightMessages: rng.pick([1, 2, 4, 16, 256]),
    maxUncommittedBytes: rng.chance(0.2) ? rng.int(40, 400) : 64 << 20,
    preVote,
    checkQuorum,
  };
  const maxDelay = rng.int(1, 4);
  const network: NetworkSettings = {
    minDelay: rng.chance(0.3) ? 0 : 1,
    maxDelay,
    lossRate: rng.pick([0, 0.01, 0.05, 0.1, 0.2]),
    duplicateRate: rng.pick([0, 0.01, 0.05, 0.1]),
    delaySpikeRate: rng.pick([0, 0.01, 0.05]),
    maxSpikeDelay: rng.int(maxDelay + 1, 2 * electionTicks),
  };
  const faults: FaultSettings = {
    faultRate: rng.pick([0.01, 0.03, 0.06, 0.1]),
    weights: {
      partition: rng.int(0, 4),
      oneWayPartition: rng.int(0, 4),
      isolateLeader: rng.int(0, 4),
      heal: rng.int(2, 6),
      crash: rng.int(0, 6),
      pause: rng.int(0, 3),
      transferLeadership: rng.int(0, 3),
      campaign: rng.int(0, 2),
      confChange: rng.int(0, 4),
    },
    minDownTicks: 1,
    maxDownTicks: rng.int(5, 5 * electionTicks),
    diskDelayRate: rng.pick([0, 0.1, 0.3, 0.6]),
    maxDiskDelay: rng.int(1, 4),
    maxNewNodes: rng.int(1, 3),
    retireRemovedRate: preVote && checkQuorum ? 0.5 : 1,
  };
  const workload: WorkloadSettings = {
    proposeRate: rng.pick([0.2, 0.5, 0.9]),
    maxBatch: rng.int(1, 4),
    maxOutstanding: rng.pick([4, 16, 48]),
    maxPayloadPadding: rng.pick([0, 8, 64]),
    readRate: rng.pick([0.05, 0.2, 0.5]),
    compactEvery: rng.int(5, 50),
    compactLag: rng.int(0, 5),
    snapshotChunks: rng.int(1, 4),
  };
  // Liveness bound: 20 election timeouts, plus time to replicate the worst backlog one entry per
  // round trip (small maxBytesPerMessage and maxInflightMessages=1 make that the throughput).
  const roundTrip = 2 * network.maxDelay + 2 * faults.maxDiskDelay + 2;
  const backlog = workload.compactEvery + workload.compactLag + workload.maxOutstanding + 20;
  return {
    seed,
    clusterSize: rng.chance(0.5) ? 3 : 5,
    chaosTicks: overrides.chaosTicks ?? rng.int(400, 2000),
    livenessTicks: 20 * 2 * electionTicks + backlog * roundTrip,
    core,
    network,
    faults,
    workload,
  };
}
