// The rbkv command line against a real 3-node cluster, run as a subprocess.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../../src/devtools/local_cluster";
import { startCluster, type TestCluster } from "../client/helpers";
import { MAIN, rbkv, readUntil } from "./helpers";

// Every test starts subprocesses or waits on a real cluster; a loaded machine needs room.
setDefaultTimeout(60_000);

let t: TestCluster;
let ep: string[];
const started: ReturnType<typeof Bun.spawn>[] = [];

beforeAll(async () => {
  t = await startCluster(3, "rbkv-cli-");
  ep = ["--endpoints", t.endpoints.join(",")];
}, 60_000);

afterAll(async () => {
  for (const p of started) {
    p.kill("SIGKILL");
    await p.exited;
  }
  await t?.stop();
});

describe("keys", () => {
  test("put, get, get --prefix, del", async () => {
    expect(await rbkv(["put", "cli/a", "one", ...ep])).toMatchObject({ code: 0, stdout: "OK\n" });
    expect(await rbkv(["put", "cli/b", "two words", ...ep])).toMatchObject({ code: 0 });
    expect(await rbkv(["get", "cli/a", ...ep])).toMatchObject({ code: 0, stdout: "cli/a\none\n" });
    expect((await rbkv(["get", "cli/", "--prefix", ...ep])).stdout).toBe("cli/a\none\ncli/b\ntwo words\n");
    expect((await rbkv(["get", "cli/", "--prefix", "--keys-only", "--serializable", ...ep])).stdout).toBe("cli/a\ncli/b\n");
    expect((await rbkv(["get", "cli/", "--prefix", "--limit", "1", ...ep])).stdout).toBe("cli/a\none\n");
    expect(await rbkv(["del", "cli/a", ...ep])).toMatchObject({ code: 0, stdout: "1\n" });
    expect(await rbkv(["get", "cli/a", ...ep])).toMatchObject({ code: 0, stdout: "" });
    expect(await rbkv(["del", "cli/", "--prefix", ...ep])).toMatchObject({ code: 0, stdout: "1\n" });
  }, 30_000);

  test("RBKV_ENDPOINTS is used when --endpoints is absent", async () => {
    expect(await rbkv(["put", "env/k", "v"], { env: { RBKV_ENDPOINTS: t.endpoints.join(",") } })).toMatchObject({ code: 0, stdout: "OK\n" });
  });

  test("-w json for scripts", async () => {
    const put = await rbkv(["put", "json/k", "v1", "-w", "json", ...ep]);
    expect(put.code).toBe(0);
    expect((JSON.parse(put.stdout) as { revision: number }).revision).toBeGreaterThan(0);
    const get = await rbkv(["get", "json/k", "-w", "json", ...ep]);
    const body = JSON.parse(get.stdout) as { count: number; kvs: { key: string; value: string; version: number }[] };
    expect(body.count).toBe(1);
    expect(body.kvs[0]).toMatchObject({ key: "json/k", value: "v1", version: 1 });
  });

  test("put --ttl", async () => {
    const res = await rbkv(["put", "ttl/k", "v", "--ttl", "30s", ...ep]);
    expect(res.code).toBe(0);
    const body = JSON.parse((await rbkv(["get", "ttl/k", "-w", "json", ...ep])).stdout) as { kvs: { expiresAt: string | null }[] };
    expect(body.kvs[0].expiresAt).not.toBeNull();
  });
});

describe("txn", () => {
  test("compare-and-swap from stdin: success exits 0, failure exits 3", async () => {
    await rbkv(["put", "txn/k", "v1", ...ep]);
    const script = 'value("txn/k") = "v1"\n\nput txn/k v2\n\nget txn/k\n';
    const first = await rbkv(["txn", ...ep], { stdin: script });
    expect(first).toMatchObject({ code: 0, stdout: "SUCCESS\n\nOK\n" });
    const second = await rbkv(["txn", ...ep], { stdin: script });
    expect(second).toMatchObject({ code: 3, stdout: "FAILURE\n\ntxn/k\nv2\n" });
    const byRevision = await rbkv(["txn", "-w", "json", ...ep], { stdin: 'mod("txn/k") > "0"\nversion("txn/k") = "2"\n\ndel txn/k\n' });
    expect(byRevision.code).toBe(0);
    expect(JSON.parse(byRevision.stdout)).toMatchObject({ succeeded: true, results: [{ type: "delete", deleted: 1 }] });
  });

  test("a malformed compare is a usage error", async () => {
    const res = await rbkv(["txn", ...ep], { stdin: 'valu("k") = "v"\n\nput k v\n' });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain("txn line 1");
  });
});

describe("watch", () => {
  test("prints events as they happen", async () => {
    const start = JSON.parse((await rbkv(["put", "w/a", "0", "-w", "json", ...ep])).stdout) as { revision: number };
    const proc = Bun.spawn([process.execPath, "run", MAIN, "watch", "w/", "--prefix", "--rev", String(start.revision + 1), ...ep], { stdout: "pipe", stderr: "pipe" });
    started.push(proc);
    await rbkv(["put", "w/a", "1", ...ep]);
    await rbkv(["del", "w/a", ...ep]);
    const out = await readUntil(proc.stdout, (text) => text.includes("DELETE"));
    expect(out).toBe("PUT\nw/a\n1\nDELETE\nw/a\n");
    proc.kill("SIGINT");
    expect(await proc.exited).toBe(0);
  }, 30_000);
});

describe("cluster", () => {
  test("member list shows every member and the leader", async () => {
    const res = await rbkv(["member", "list", ...ep]);
    expect(res.code).toBe(0);
    for (const n of t.cluster.nodes) expect(res.stdout).toContain(n.grpcAddr);
    expect(res.stdout.match(/leader/g)?.length).toBe(1);
    const json = JSON.parse((await rbkv(["member", "list", "-w", "json", ...ep])).stdout) as { members: { isLeader: boolean }[] };
    expect(json.members.filter((m) => m.isLeader).length).toBe(1);
  });

  test("endpoint status and health: a row per endpoint", async () => {
    const status = await rbkv(["endpoint", "status", ...ep]);
    expect(status.code).toBe(0);
    const lines = status.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^ENDPOINT\s+ID\s+ROLE\s+LEADER/);
    expect(lines.length).toBe(4);
    expect(lines.filter((l) => / leader /.test(l)).length).toBe(1);
    const health = await rbkv(["endpoint", "health", ...ep]);
    expect(health.code).toBe(0);
    expect(health.stdout.match(/ healthy /g)?.length).toBe(3);
  });

  test("endpoint health exits 1 when an endpoint is down", async () => {
    const dead = `127.0.0.1:${await freePort()}`;
    const res = await rbkv(["endpoint", "health", "--endpoints", `${t.endpoints[0]},${dead}`]);
    expect(res.code).toBe(1);
    expect(res.stdout).toContain("unhealthy");
  });
});

describe("snapshot", () => {
  test("save, then restore into a new node that serves the same keys", async () => {
    const dir = mkdtempSync(join(tmpdir(), "rbkv-cli-snap-"));
    try {
      await rbkv(["put", "snap/a", "alpha", ...ep]);
      await rbkv(["put", "snap/b", "beta", ...ep]);
      const file = join(dir, "backup.db");
      const save = await rbkv(["snapshot", "save", file, ...ep]);
      expect(save.code).toBe(0);
      expect(save.stdout).toContain("checksum verified");
      expect(save.stderr).toMatch(/bytes received/);
      expect(existsSync(file)).toBe(true);
      expect(existsSync(`${file}.part`)).toBe(false);

      const grpc = `127.0.0.1:${await freePort()}`;
      const raft = `127.0.0.1:${await freePort()}`;
      const data = join(dir, "restored");
      const node = Bun.spawn(
        [process.execPath, "run", MAIN, "snapshot", "restore", file, "--grpc-addr", grpc, "--raft-addr", raft, "--log-dir", data, "--kv-dir", data],
        { stdout: "pipe", stderr: "pipe" },
      );
      started.push(node);
      await readUntil(node.stdout, (text) => text.includes("serving clients"), 30_000);
      const got = await rbkv(["get", "snap/", "--prefix", "--endpoints", grpc, "--timeout", "15s"]);
      expect(got).toMatchObject({ code: 0, stdout: "snap/a\nalpha\nsnap/b\nbeta\n" });
      const members = JSON.parse((await rbkv(["member", "list", "-w", "json", "--endpoints", grpc])).stdout) as { members: { grpcAddr: string }[] };
      expect(members.members.map((m) => m.grpcAddr)).toEqual([grpc]);
      node.kill("SIGTERM");
      await node.exited;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  test("restore without its required flags is a usage error", async () => {
    const res = await rbkv(["snapshot", "restore", "x.db"]);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain("--grpc-addr");
  });
});

describe("errors and usage", () => {
  test("usage mistakes exit 2", async () => {
    expect((await rbkv(["get"])).code).toBe(2);
    expect((await rbkv(["put", "k"])).code).toBe(2);
    expect((await rbkv(["get", "k", "--no-such-flag"])).code).toBe(2);
    const unknown = await rbkv(["frobnicate"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown command");
    const partial = await rbkv(["member", "lst"]);
    expect(partial.code).toBe(2);
    expect(partial.stderr).toContain("member list");
  });

  test("help lists the commands", async () => {
    const res = await rbkv(["help"]);
    expect(res.code).toBe(0);
    for (const c of ["put", "get", "del", "watch", "txn", "member list", "leader transfer", "endpoint status", "snapshot save", "snapshot restore"]) {
      expect(res.stdout).toContain(c);
    }
    expect((await rbkv(["help", "txn"])).stdout).toContain("value(");
    expect((await rbkv(["get", "--help"])).stdout).toContain("--serializable");
  });

  test("an unreachable endpoint exits 1 and says what to do", async () => {
    const dead = `127.0.0.1:${await freePort()}`;
    const res = await rbkv(["get", "k", "--endpoints", dead, "--timeout", "1s"]);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(dead);
    expect(res.stderr).toContain("--endpoints");
  });
});
