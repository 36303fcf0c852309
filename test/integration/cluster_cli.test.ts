// `npm run cluster` (src/devtools/cluster_cli.ts): three nodes in one terminal, lines prefixed with
// each node's name, a write works, and Ctrl-C (SIGINT) stops all three.
import { expect, test } from "bun:test";
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { freePort } from "../../src/devtools/local_cluster";

test("npm run cluster starts three prefixed nodes that serve writes, and Ctrl-C stops them all", async () => {
  const dir = await mkdtemp(join(tmpdir(), "rbkv-cluster-cli-"));
  // The launcher uses base..base+2 (clients) and base+100..base+102 (Raft): stay well below the
  // ephemeral range so the neighbours of the checked port are free too.
  let base = await freePort();
  while (base > 30_000) base = await freePort();
  const child = spawn(process.execPath, ["run", resolve(import.meta.dir, "../../src/devtools/cluster_cli.ts"), "--tick-ms=50"], {
    env: { ...process.env, RBKV_CLUSTER_DIR: dir, RBKV_CLUSTER_BASE_PORT: String(base) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (c: Buffer) => (output += c.toString()));
  child.stderr.on("data", (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  try {
    const deadline = Date.now() + 60_000;
    while (!output.includes("rbkv cluster up") && Date.now() < deadline) await Bun.sleep(100);
    expect(output).toContain("rbkv cluster up");
    for (const name of ["node1 |", "node2 |", "node3 |"]) expect(output).toContain(name);
    const res = await fetch(`http://localhost:${base + 1}/rbkv.v1.KV/Put`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ key: "aGVsbG8=", value: "d29ybGQ=" }),
    });
    expect(res.status).toBe(200);
    child.kill("SIGINT");
    expect(await exited).toBe(0);
    for (const name of ["node1", "node2", "node3"]) expect(output).toMatch(new RegExp(`${name} \\| .*stopped`));
  } finally {
    if (child.exitCode === null) child.kill("SIGKILL");
    await rm(dir, { recursive: true, force: true });
  }
}, 90_000);
