// Output for people (text, aligned tables) and for scripts (JSON, bigints as numbers).
import { toText } from "../client/bytes";
import type { KeyValue } from "../client";
import { UsageError } from "./errors";

export type OutputFormat = "simple" | "table" | "json";

export function parseFormat(value: string | undefined): OutputFormat {
  const f = value ?? "simple";
  if (f !== "simple" && f !== "table" && f !== "json") throw new UsageError(`-w must be simple, table or json, got "${f}"`);
  return f;
}

/** JSON with bigint as a number when it fits exactly, else as a string; Dates as ISO text. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (typeof v === "bigint") return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v.toString();
    return v;
  });
}

/** Aligned columns with a header row. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join("  ").trimEnd();
  return [line(header), ...rows.map(line)].join("\n") + "\n";
}

function isUtf8(bytes: Uint8Array): boolean {
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/** A key-value for -w json: key and value as text, plus base64 when they are not valid UTF-8. */
export function keyValueJson(kv: KeyValue): Record<string, unknown> {
  const out: Record<string, unknown> = {
    key: toText(kv.key),
    value: toText(kv.value),
    createRevision: kv.createRevision,
    modRevision: kv.modRevision,
    version: kv.version,
    expiresAt: kv.expiresAt ? kv.expiresAt.toISOString() : null,
  };
  if (!isUtf8(kv.key)) out.keyBase64 = Buffer.from(kv.key).toString("base64");
  if (!isUtf8(kv.value)) out.valueBase64 = Buffer.from(kv.value).toString("base64");
  return out;
}

export function humanBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(1)} ${units[u]}`;
}
