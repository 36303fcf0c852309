// etcdctl's txn input: compares, a blank line, success ops, a blank line, failure ops.
//   value("k") = "v"          mod("k") > "3"        create("k") = "0"      version("k") != "2"
//   put k v [--ttl 30s]       get k [--prefix]      del k [--prefix]
// Strings may be bare words or "double-quoted" (JSON escapes); numbers may be quoted or not.
import type { Compare, RequestOp } from "../gen/rbkv/v1/kv_pb";
import { compare, op, type CompareOperator } from "../client";
import { UsageError } from "./errors";

export interface ParsedTxn {
  compares: Compare[];
  success: RequestOp[];
  failure: RequestOp[];
}

/** Splits a line into words; "quoted strings" keep spaces and JSON escapes. */
export function tokenize(line: string, lineNo: number): string[] {
  const tokens: string[] = [];
  let i = 0;
  while (i < line.length) {
    if (/\s/.test(line[i])) {
      i++;
      continue;
    }
    if (line[i] === '"') {
      let j = i + 1;
      while (j < line.length && line[j] !== '"') j += line[j] === "\\" ? 2 : 1;
      if (j >= line.length) throw new UsageError(`txn line ${lineNo}: unterminated string`);
      tokens.push(JSON.parse(line.slice(i, j + 1)) as string);
      i = j + 1;
      continue;
    }
    let j = i;
    while (j < line.length && !/\s/.test(line[j])) j++;
    tokens.push(line.slice(i, j));
    i = j;
  }
  return tokens;
}

const COMPARE_LINE = /^\s*(value|mod|create|version|val|m|c|ver)\s*\(\s*("(?:[^"\\]|\\.)*"|[^)\s]*)\s*\)\s*(=|==|!=|>|<)\s*(.*?)\s*$/;

function unquote(text: string, lineNo: number): string {
  if (!text.startsWith('"')) return text;
  try {
    return JSON.parse(text) as string;
  } catch {
    throw new UsageError(`txn line ${lineNo}: bad string ${text}`);
  }
}

function revision(text: string, lineNo: number): bigint {
  if (!/^\d+$/.test(text)) throw new UsageError(`txn line ${lineNo}: expected a whole number, got "${text}"`);
  return BigInt(text);
}

export function parseCompare(line: string, lineNo: number): Compare {
  const m = COMPARE_LINE.exec(line);
  if (!m) throw new UsageError(`txn line ${lineNo}: "${line}" is not a compare; write e.g. value("k") = "v" or mod("k") > "3"`);
  const key = unquote(m[2], lineNo);
  const operator = m[3] as CompareOperator;
  const operand = unquote(m[4], lineNo);
  switch (m[1]) {
    case "value":
    case "val":
      return compare.value(key, operator, operand);
    case "mod":
    case "m":
      return compare.modRevision(key, operator, revision(operand, lineNo));
    case "create":
    case "c":
      return compare.createRevision(key, operator, revision(operand, lineNo));
    default:
      return compare.version(key, operator, revision(operand, lineNo));
  }
}

export function parseOp(line: string, lineNo: number): RequestOp {
  const [verb, ...rest] = tokenize(line, lineNo);
  const flags = rest.filter((t) => t.startsWith("--"));
  const words = rest.filter((t, i) => !t.startsWith("--") && !(i > 0 && rest[i - 1] === "--ttl"));
  const prefix = flags.includes("--prefix");
  const ttlAt = rest.indexOf("--ttl");
  const unknown = flags.filter((f) => f !== "--prefix" && f !== "--ttl");
  if (unknown.length > 0) throw new UsageError(`txn line ${lineNo}: unknown flag ${unknown[0]}`);
  const need = (n: number, shape: string) => {
    if (words.length !== n) throw new UsageError(`txn line ${lineNo}: write it as ${shape}`);
  };
  switch (verb) {
    case "put": {
      need(2, "put <key> <value> [--ttl 30s]");
      const ttl = ttlAt >= 0 ? rest[ttlAt + 1] : undefined;
      if (ttlAt >= 0 && ttl === undefined) throw new UsageError(`txn line ${lineNo}: --ttl needs a value`);
      return op.put(words[0], words[1], { ttl });
    }
    case "get":
      need(1, "get <key> [--prefix]");
      return prefix ? op.getPrefix(words[0]) : op.get(words[0]);
    case "del":
    case "delete":
      need(1, "del <key> [--prefix]");
      return op.delete(words[0], { prefix });
    default:
      throw new UsageError(`txn line ${lineNo}: "${verb ?? ""}" is not an op; use put, get or del`);
  }
}

/** Parses the whole input: each blank line starts the next section; trailing blank lines are ignored. */
export function parseTxn(input: string): ParsedTxn {
  const lines = input.replace(/\r\n/g, "\n").split("\n");
  while (lines.length > 0 && lines[lines.length - 1].trim() === "") lines.pop();
  const sections: { line: string; no: number }[][] = [[], [], []];
  let section = 0;
  lines.forEach((line, i) => {
    if (line.trim() === "") {
      section++;
      if (section > 2) throw new UsageError(`txn line ${i + 1}: a fourth section; the input is compares, a blank line, success ops, a blank line, failure ops`);
      return;
    }
    sections[section].push({ line, no: i + 1 });
  });
  const [compares, success, failure] = sections;
  return {
    compares: compares.map((l) => parseCompare(l.line, l.no)),
    success: success.map((l) => parseOp(l.line, l.no)),
    failure: failure.map((l) => parseOp(l.line, l.no)),
  };
}
