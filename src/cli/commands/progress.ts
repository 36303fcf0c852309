// Progress of a transfer on stderr: a bar when stderr is a terminal, a line per second otherwise.
import type { CliIo } from "../io";
import { humanBytes } from "../output";

const BAR_WIDTH = 30;

export interface ProgressReporter {
  update(received: number, total: number | null): void;
  done(): void;
}

export function progressReporter(io: CliIo): ProgressReporter {
  let lastPrint = 0;
  let last = "";
  let printed = false;
  return {
    update(received, total) {
      const now = Date.now();
      const finished = total !== null && received >= total;
      if (!finished && now - lastPrint < (io.stderrIsTty ? 100 : 1_000)) return;
      lastPrint = now;
      if (io.stderrIsTty) {
        if (total !== null && total > 0) {
          const fraction = Math.min(1, received / total);
          const filled = Math.round(fraction * BAR_WIDTH);
          last = `\r[${"#".repeat(filled)}${".".repeat(BAR_WIDTH - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}% ${humanBytes(received)} / ${humanBytes(total)}`;
        } else last = `\r${humanBytes(received)} received`;
        io.err(last);
      } else io.err(`${received} bytes received${total !== null ? ` of ${total}` : ""}\n`);
      printed = true;
    },
    done() {
      if (printed && io.stderrIsTty) io.err("\n");
    },
  };
}
