import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "../../src/devtools/local_cluster";
import { decodeFields, fieldBytes, fieldVarint, message } from "./proto_lite";
import { prefixEnd, type BenchTarget } from "./target";

export function etcdAvailable(): boolean {
  return spawnSync("etcd", ["--version"]).status === 0 && spawnSync("etcdctl", ["version"]).status === 0;
}

/** A 3-member etcd cluster on loopback (Debian's etcd-server), data in a temporary folder. */
export async function etcdTarget(size = 3): Promise<BenchTarget> {
  const dir = await mkdtemp(join(tmpdir(), "etcd-bench-"));
  const members = [];
  for (let i = 1; i <= size; i++) members.push({ name: `e${i}`, client: await freePort(), peer: await freePort() });
  const initialCluster = members.map((m) => `${m.name}=http://127.0.0.1:${m.peer}`).join(",");
  const procs: ChildProcess[] = members.map((m) =>
    spawn(
      "etcd",
      [
        `--name=${m.name}`,
        `--data-dir=${join(dir, m.name)}`,
        `--listen-client-urls=http://127.0.0.1:${m.client}`,
        `--advertise-client-urls=http://127.0.0.1:${m.client}`,
        `--listen-peer-urls=http://127.0.0.1:${m.peer}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${m.peer}`,
        `--initial-cluster=${initialCluster}`,
        "--initial-cluster-state=new",
        "--log-level=error",
        "--logger=zap",
      ],
      { stdio: "ignore" },
    ),
  );
  const endpoints = members.map((m) => `127.0.0.1:${m.client}`);
  const leader = async (): Promise<string> => {
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const r = spawnSync("etcdctl", [`--endpoints=${endpoints.join(",")}`, "endpoint", "status", "-w", "json"], { encoding: "utf8" });
      if (r.status === 0) {
        const list = JSON.parse(r.stdout) as { Endpoint: string; Status: { header: { member_id: number }; leader: number } }[];
        const l = list.find((s) => s.Status.leader !== 0 && BigInt(s.Status.leader) === BigInt(s.Status.header.member_id));
        if (l) return l.Endpoint.replace(/^http:\/\//, "");
      }
      await new Promise((res) => setTimeout(res, 300));
    }
    throw new Error("etcd: no leader found");
  };
  await leader();
  return {
    name: "etcd",
    endpoints,
    leader,
    put: (key, value) => ({ path: "/etcdserverpb.KV/Put", body: message(fieldBytes(1, key), fieldBytes(2, value)) }),
    get: (key, serializable) => ({ path: "/etcdserverpb.KV/Range", body: message(fieldBytes(1, key), ...(serializable ? [fieldVarint(7, 1)] : [])) }),
    watch: (prefix) => ({ path: "/etcdserverpb.Watch/Watch", body: message(fieldBytes(1, message(fieldBytes(1, prefix), fieldBytes(2, prefixEnd(prefix))))), keepOpen: true }),
    countEvents: (m) => decodeFields(m).get(11)?.length ?? 0,
    serverPids: () => procs.map((p) => p.pid ?? 0).filter((p) => p > 0),
    async stop() {
      await Promise.all(procs.map((p) => new Promise<void>((res) => (p.exitCode !== null ? res() : (p.once("exit", () => res()), p.kill("SIGTERM"))))));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
