import { expect, test } from "bun:test";
import { DEFAULT_LIMITS } from "../../src/node/api";
import { FlagError, nodeFlagsHelp, parseNodeFlags } from "../../src/node/flags";

test("the seed's flags, with --id defaulting to the client address and the advertised Raft address to --raft-addr", () => {
  const c = parseNodeFlags(["--grpc-addr=localhost:9502", "--join-addr", "localhost:9501", "--raft-addr=localhost:9602", "--log-dir=/tmp/n2", "--kv-dir=/tmp/n2"]);
  if (c === "help") throw new Error("unexpected help");
  expect(c).toMatchObject({ id: "localhost:9502", grpcAddr: "localhost:9502", raftAddr: "localhost:9602", raftAdvertiseAddr: "localhost:9602", joinAddr: "localhost:9501", logDir: "/tmp/n2", kvDir: "/tmp/n2" });
  expect(c.limits).toEqual(DEFAULT_LIMITS);
});

test("--help lists every flag the parser accepts", () => {
  expect(parseNodeFlags(["--help"])).toBe("help");
  const help = nodeFlagsHelp();
  const names = [...help.matchAll(/--([a-z-]+)/g)].map((m) => m[1]);
  for (const name of ["grpc-addr", "raft-addr", "raft-advertise-addr", "join-addr", "log-dir", "kv-dir", "id", "election-ticks", "snapshot-entries", "history-revisions", "max-key-bytes", "max-value-bytes", "max-request-bytes", "restore"]) {
    expect(names).toContain(name);
  }
});

test("bad flags are refused with a message that says what is wrong", () => {
  expect(() => parseNodeFlags(["--grpc-adr=x"])).toThrow(new FlagError("unknown flag --grpc-adr (see --help)"));
  expect(() => parseNodeFlags(["--tick-ms=0"])).toThrow("--tick-ms must be a whole number >= 1");
  expect(() => parseNodeFlags(["--heartbeat-ticks=10", "--election-ticks=10"])).toThrow("--heartbeat-ticks must be smaller");
  expect(() => parseNodeFlags(["--log-dir"])).toThrow("--log-dir needs a value");
  const c = parseNodeFlags(["--max-key-bytes=100"]);
  if (c === "help") throw new Error("unexpected help");
  expect(c.limits.maxKeyBytes).toBe(100);
});
