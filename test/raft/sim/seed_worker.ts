// A Bun worker that runs the seeds it is sent and answers with their totals and failures.
import { runSeedsInline, type WorkerReply, type WorkerRequest } from "./run_seeds";

interface WorkerScope {
  onmessage: ((event: MessageEvent<WorkerRequest>) => void) | null;
  postMessage(reply: WorkerReply): void;
}

const scope = globalThis as unknown as WorkerScope;
scope.onmessage = (event) => {
  scope.postMessage(runSeedsInline(event.data.seeds, event.data.options));
};
