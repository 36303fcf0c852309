// Where a command reads and writes, so that the process streams can be swapped out.

export interface CliIo {
  out(text: string | Uint8Array): void;
  err(text: string): void;
  /** All of standard input. */
  readStdin(): Promise<string>;
  stdinIsTty: boolean;
  stderrIsTty: boolean;
  /** Aborts on Ctrl-C / SIGTERM (for commands that run until stopped, like watch). */
  interrupted: AbortSignal;
}

export function processIo(): CliIo {
  const interrupt = new AbortController();
  // Commands that watch the signal (watch, snapshot save) finish cleanly; any other is ended
  // shortly after, with the conventional 128 + SIGINT status.
  const stop = () => {
    interrupt.abort();
    setTimeout(() => process.exit(130), 1_000).unref();
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  return {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString("utf8");
    },
    stdinIsTty: Boolean(process.stdin.isTTY),
    stderrIsTty: Boolean(process.stderr.isTTY),
    interrupted: interrupt.signal,
  };
}
