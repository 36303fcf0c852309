// The live watch panel: events on a prefix as they arrive. After an error it reconnects with
// start_revision = the last revision seen + 1, so no event is lost or shown twice.
import { EventType, type Event } from "../../gen/rbkv/v1/kv_pb";
import { looksLikeText, prefixRange, showBytes, textToBytes } from "./bytes";
import { byId, errorText, h } from "./dom";
import { servingNode } from "./rpc";

const MAX_ROWS = 200;
const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 5000;

const EVENT_NAME: Record<EventType, string> = {
  [EventType.UNSPECIFIED]: "?",
  [EventType.PUT]: "PUT",
  [EventType.DELETE]: "DELETE",
  [EventType.EXPIRE]: "EXPIRE",
};

function readable(bytes: Uint8Array): string {
  return showBytes(bytes, looksLikeText(bytes) ? "text" : "hex");
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

export class WatchPanel {
  private node = servingNode();
  private running: AbortController | null = null;
  private seen = 0;

  start(): void {
    byId<HTMLFormElement>("watch-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      if (this.running) this.stop();
      else this.watch(byId<HTMLInputElement>("watch-prefix").value);
    });
    byId("watch-clear").addEventListener("click", () => {
      byId("watch-body").replaceChildren();
      this.seen = 0;
      byId("watch-count").textContent = "0 events";
    });
    this.watch(byId<HTMLInputElement>("watch-prefix").value);
  }

  private say(text: string, kind: "ok" | "warn" | "error"): void {
    const el = byId("watch-status");
    el.textContent = text;
    el.className = `status ${kind}`;
  }

  private stop(): void {
    this.running?.abort();
    this.running = null;
    byId("watch-toggle").textContent = "Watch";
    byId<HTMLInputElement>("watch-prefix").disabled = false;
    this.say("Stopped.", "warn");
  }

  private watch(prefix: string): void {
    const controller = new AbortController();
    this.running = controller;
    byId("watch-toggle").textContent = "Stop";
    byId<HTMLInputElement>("watch-prefix").disabled = true;
    void this.run(prefix, controller.signal);
  }

  private async run(prefix: string, signal: AbortSignal): Promise<void> {
    const { key, rangeEnd } = prefixRange(textToBytes(prefix));
    const label = prefix === "" ? "every key" : `"${prefix}"`;
    let next = 0n; // the first revision not yet shown; 0 until the current revision is known
    let retryMs = FIRST_RETRY_MS;
    while (!signal.aborted) {
      try {
        if (next === 0n) {
          const now = await this.node.kv.range({ key, rangeEnd, countOnly: true }, { signal });
          next = (now.header?.revision ?? 0n) + 1n;
        }
        this.say(`Watching ${label} from revision ${next}.`, "ok");
        for await (const res of this.node.kv.watch({ key, rangeEnd, startRevision: next }, { signal })) {
          retryMs = FIRST_RETRY_MS;
          if (res.compactRevision > 0n) {
            this.say(`Revisions ${next} to ${res.compactRevision - 1n} were compacted away; resuming from ${res.compactRevision}.`, "warn");
            next = res.compactRevision;
          }
          for (const event of res.events) {
            this.show(event);
            next = (event.kv?.modRevision ?? next - 1n) + 1n;
          }
        }
        if (signal.aborted) return;
        this.say(`The node ended the watch; resuming from revision ${next}.`, "warn");
      } catch (err) {
        if (signal.aborted) return;
        this.say(`Watch interrupted (${errorText(err)}); reconnecting from revision ${next} in ${retryMs / 1000} s.`, "error");
        await sleep(retryMs, signal);
        retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
      }
    }
  }

  private show(event: Event): void {
    const kv = event.kv;
    const type = EVENT_NAME[event.type] ?? String(event.type);
    const row = h(
      "tr",
      { class: `event event-${type.toLowerCase()}`, "data-key": kv ? readable(kv.key) : "" },
      h("td", { class: "time" }, new Date().toLocaleTimeString([], { hour12: false })),
      h("td", {}, h("span", { class: `badge type-${type.toLowerCase()}` }, type)),
      h("td", { class: "key" }, kv ? readable(kv.key) : ""),
      h("td", { class: "value" }, kv && event.type === EventType.PUT ? readable(kv.value) : ""),
      h("td", { class: "num" }, kv?.modRevision.toString() ?? ""),
    );
    const body = byId("watch-body");
    body.prepend(row);
    while (body.children.length > MAX_ROWS) body.lastElementChild?.remove();
    this.seen++;
    byId("watch-count").textContent = `${this.seen} event${this.seen === 1 ? "" : "s"}`;
  }
}
