// Keys and values are bytes: turn them into text or hex for display, and back.

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: false });

export type ByteView = "text" | "hex";

export function textToBytes(text: string): Uint8Array {
  return encoder.encode(text);
}

export function bytesToText(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

export function bytesToHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(" ");
}

/** "68 69", "6869" or "0x6869" -> bytes; throws on anything that is not whole hex bytes. */
export function hexToBytes(hex: string): Uint8Array {
  const digits = hex.replace(/^0x/i, "").replace(/\s+/g, "");
  if (digits.length % 2 !== 0 || /[^0-9a-f]/i.test(digits)) throw new Error(`"${hex}" is not hex bytes (two hex digits per byte)`);
  const out = new Uint8Array(digits.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(digits.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function showBytes(bytes: Uint8Array, view: ByteView): string {
  return view === "hex" ? bytesToHex(bytes) : bytesToText(bytes);
}

/** True when the bytes decode as UTF-8 text without control characters (other than tab/newline). */
export function looksLikeText(bytes: Uint8Array): boolean {
  try {
    const text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    return !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text);
  } catch {
    return false;
  }
}

/**
 * The range [key, rangeEnd) that holds every key starting with `prefix`: the prefix with its last
 * byte below 0xff incremented. An empty prefix (or one of only 0xff bytes) means every key.
 */
export function prefixRange(prefix: Uint8Array): { key: Uint8Array; rangeEnd: Uint8Array } {
  const end = prefix.slice();
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i] < 0xff) {
      end[i]++;
      return { key: prefix, rangeEnd: end.slice(0, i + 1) };
    }
  }
  return { key: prefix, rangeEnd: new Uint8Array([0]) };
}
