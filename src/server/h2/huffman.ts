// The HPACK Huffman code (RFC 7541 Appendix B). The code is canonical: codes of the same length
// are consecutive in symbol order, and each length's first code follows the previous length's
// last, so the bit lengths alone define it. Decoding walks a binary tree built from them.

/** Code length in bits of each symbol 0-255 and of EOS (256), from RFC 7541 Appendix B. */
const CODE_LENGTHS: readonly number[] = [
  // 0-31: control bytes
  13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28,
  28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
  // 32-63: ' ' ! " # $ % & ' ( ) * + , - . / 0-9 : ; < = > ?
  6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6,
  5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,
  // 64-95: @ A-Z [ \ ] ^ _
  13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
  7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,
  // 96-127: ` a-z { | } ~ DEL
  15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5,
  6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,
  // 128-255
  20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23,
  24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,
  22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23,
  21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
  26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25,
  19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,
  20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23,
  26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
  // 256: EOS
  30,
];

export const EOS = 256;

/** Each symbol's code (right-aligned) and its length, derived canonically from CODE_LENGTHS. */
export function huffmanCodes(): { code: number; length: number }[] {
  const symbols = CODE_LENGTHS.map((length, symbol) => ({ symbol, length })).sort((a, b) => a.length - b.length || a.symbol - b.symbol);
  const out: { code: number; length: number }[] = new Array(CODE_LENGTHS.length);
  let code = 0;
  let length = symbols[0].length;
  for (const s of symbols) {
    code *= 2 ** (s.length - length);
    length = s.length;
    out[s.symbol] = { code, length };
    code++;
  }
  return out;
}

// The decoding tree as two child arrays: node 0 is the root; a child value >= 0 is an inner node,
// a child value < 0 is the leaf of symbol -(value + 1).
const zero: number[] = [0];
const one: number[] = [0];
{
  let nodes = 1;
  for (const [symbol, { code, length }] of huffmanCodes().entries()) {
    let node = 0;
    for (let bit = length - 1; bit >= 0; bit--) {
      const children = Math.floor(code / 2 ** bit) % 2 === 0 ? zero : one;
      if (bit === 0) {
        children[node] = -(symbol + 1);
      } else {
        if (children[node] === 0) {
          children[node] = nodes++;
          zero.push(0);
          one.push(0);
        }
        node = children[node];
      }
    }
  }
}

export class HuffmanError extends Error {}

/**
 * Decodes a Huffman-coded string literal. The padding after the last symbol must be fewer than
 * 8 bits, all ones (a prefix of EOS); EOS itself must not appear.
 */
export function huffmanDecode(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.ceil((bytes.length * 8) / 5));
  let n = 0;
  let node = 0;
  let depth = 0;
  let allOnes = true;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i];
    for (let bit = 7; bit >= 0; bit--) {
      const isOne = (byte >> bit) & 1;
      const next = isOne ? one[node] : zero[node];
      depth++;
      allOnes &&= isOne === 1;
      if (next < 0) {
        const symbol = -next - 1;
        if (symbol === EOS) throw new HuffmanError("Huffman string contains EOS");
        out[n++] = symbol;
        node = 0;
        depth = 0;
        allOnes = true;
      } else {
        node = next;
      }
    }
  }
  if (depth > 7 || !allOnes) throw new HuffmanError("invalid Huffman padding");
  return out.subarray(0, n);
}
