// Runs the rbkv command line as a subprocess, the way a user or a script would.
import { resolve } from "node:path";

export const MAIN = resolve(import.meta.dir, "../../src/main.ts");

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function rbkv(args: string[], options: { stdin?: string; env?: Record<string, string> } = {}): Promise<CliResult> {
  const proc = Bun.spawn([process.execPath, "run", MAIN, ...args], {
    stdin: options.stdin !== undefined ? new TextEncoder().encode(options.stdin) : "ignore",
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, RBKV_ENDPOINTS: "", ...options.env },
  });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}

/** Reads a subprocess's stdout until `done(text)` holds or the time runs out. */
export async function readUntil(stream: ReadableStream<Uint8Array>, done: (text: string) => boolean, timeoutMs = 15_000): Promise<string> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let text = "";
  const deadline = Date.now() + timeoutMs;
  try {
    while (!done(text)) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`output so far did not match:\n${text}`);
      const chunk = await Promise.race([reader.read(), new Promise<null>((r) => setTimeout(() => r(null), remaining))]);
      if (chunk === null) continue;
      if (chunk.done) break;
      text += decoder.decode(chunk.value, { stream: true });
    }
  } finally {
    reader.releaseLock();
  }
  return text;
}
