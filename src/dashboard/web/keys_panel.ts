// The key browser: keys under a prefix with their values (text or hex) and revisions; put and delete.
import type { KeyValue } from "../../gen/rbkv/v1/kv_pb";
import { hexToBytes, looksLikeText, prefixRange, showBytes, textToBytes, type ByteView } from "./bytes";
import { byId, errorText, h, replaceChildren } from "./dom";
import { servingNode } from "./rpc";

const RANGE_LIMIT = 500n;

function keyLabel(key: Uint8Array, view: ByteView): string {
  return showBytes(key, view === "text" && looksLikeText(key) ? "text" : "hex");
}

function expiresLabel(kv: KeyValue): string {
  if (!kv.expiresAt) return "never";
  const ms = Number(kv.expiresAt.seconds) * 1000 + Math.floor(kv.expiresAt.nanos / 1e6);
  const seconds = Math.max(0, Math.round((ms - Date.now()) / 1000));
  return `in ${seconds} s (${new Date(ms).toLocaleTimeString([], { hour12: false })})`;
}

export class KeysPanel {
  private kvs: KeyValue[] = [];
  private node = servingNode();

  start(): void {
    byId<HTMLFormElement>("browse-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      void this.load();
    });
    document.querySelectorAll<HTMLInputElement>("input[name=view]").forEach((radio) => radio.addEventListener("change", () => this.render()));
    byId<HTMLFormElement>("put-form").addEventListener("submit", (ev) => {
      ev.preventDefault();
      void this.put();
    });
    byId("delete-key").addEventListener("click", () => void this.remove(this.formKey()));
    void this.load();
  }

  private view(): ByteView {
    return document.querySelector<HTMLInputElement>("input[name=view]:checked")?.value === "hex" ? "hex" : "text";
  }

  private say(text: string, kind: "ok" | "error" = "ok"): void {
    const el = byId("keys-status");
    el.textContent = text;
    el.className = `status ${kind}`;
  }

  async load(): Promise<void> {
    const prefix = byId<HTMLInputElement>("prefix").value;
    const { key, rangeEnd } = prefixRange(textToBytes(prefix));
    try {
      const res = await this.node.kv.range({ key, rangeEnd, limit: RANGE_LIMIT });
      this.kvs = res.kvs;
      this.render();
      const more = res.more ? ` (showing the first ${res.kvs.length})` : "";
      const where = prefix === "" ? "in the store" : `under "${prefix}"`;
      this.say(`${res.count} key${res.count === 1n ? "" : "s"} ${where} at revision ${res.header?.revision ?? "?"}${more}`);
    } catch (err) {
      this.say(`Range failed: ${errorText(err)}`, "error");
    }
  }

  private render(): void {
    const view = this.view();
    const rows = this.kvs.map((kv) =>
      h(
        "tr",
        { "data-key": keyLabel(kv.key, "text") },
        h("td", { class: "key" }, keyLabel(kv.key, view)),
        h("td", { class: `value ${view}` }, showBytes(kv.value, view)),
        h("td", { class: "num" }, kv.version.toString()),
        h("td", { class: "num" }, kv.modRevision.toString()),
        h("td", { class: "num" }, kv.createRevision.toString()),
        h("td", {}, expiresLabel(kv)),
        h("td", {}, h("button", { type: "button", class: "small danger", onclick: () => void this.remove(kv.key) }, "Delete")),
      ),
    );
    if (rows.length === 0) rows.push(h("tr", {}, h("td", { colspan: 7, class: "empty" }, "No keys under this prefix.")));
    replaceChildren(byId("keys-body"), rows);
  }

  private formKey(): Uint8Array {
    return textToBytes(byId<HTMLInputElement>("put-key").value);
  }

  private async put(): Promise<void> {
    try {
      const key = this.formKey();
      if (key.length === 0) throw new Error("give a key");
      const raw = byId<HTMLInputElement>("put-value").value;
      const value = byId<HTMLInputElement>("put-value-hex").checked ? hexToBytes(raw) : textToBytes(raw);
      const ttlText = byId<HTMLInputElement>("put-ttl").value.trim();
      const ttlSeconds = ttlText === "" ? 0 : Number(ttlText);
      if (!Number.isInteger(ttlSeconds) || ttlSeconds < 0) throw new Error("TTL must be a whole number of seconds");
      const res = await this.node.kv.put({ key, value, ttl: ttlSeconds > 0 ? { seconds: BigInt(ttlSeconds) } : undefined });
      await this.load();
      this.say(`Put "${keyLabel(key, "text")}" at revision ${res.header?.revision ?? "?"}`);
    } catch (err) {
      this.say(`Put failed: ${errorText(err)}`, "error");
    }
  }

  private async remove(key: Uint8Array): Promise<void> {
    try {
      if (key.length === 0) throw new Error("give a key");
      const res = await this.node.kv.delete({ key });
      const what = res.deleted === 0n ? "nothing to delete at" : "deleted";
      await this.load();
      this.say(`${what} "${keyLabel(key, "text")}" (revision ${res.header?.revision ?? "?"})`);
    } catch (err) {
      this.say(`Delete failed: ${errorText(err)}`, "error");
    }
  }
}
