// Parsing the command line's inputs: txn scripts, durations, flags.
import { describe, expect, test } from "bun:test";
import { CompareResult, CompareTarget } from "../../src/gen/rbkv/v1/kv_pb";
import { parseDuration } from "../../src/client";
import { parseArgs } from "../../src/cli/args";
import { UsageError } from "../../src/cli/errors";
import { parseTxn, tokenize } from "../../src/cli/txn_parse";

describe("txn input", () => {
  test("compares, success ops and failure ops in etcdctl's format", () => {
    const txn = parseTxn('value("k") = "v 1"\nmod("k") > "3"\n\nput k "v 2" --ttl 30s\nget k\n\ndel p/ --prefix\nget p/ --prefix\n');
    expect(txn.compares.map((c) => [c.target, c.result])).toEqual([
      [CompareTarget.VALUE, CompareResult.EQUAL],
      [CompareTarget.MOD, CompareResult.GREATER],
    ]);
    expect(txn.compares[0].targetUnion).toEqual({ case: "value", value: new TextEncoder().encode("v 1") });
    expect(txn.compares[1].targetUnion).toEqual({ case: "modRevision", value: 3n });
    expect(txn.success.map((o) => o.request.case)).toEqual(["put", "get"]);
    const put = txn.success[0].request;
    if (put.case === "put") {
      expect(new TextDecoder().decode(put.value.value)).toBe("v 2");
      expect(put.value.ttl?.seconds).toBe(30n);
    }
    expect(txn.failure.map((o) => o.request.case)).toEqual(["delete", "range"]);
  });

  test("missing sections are empty; numbers may be bare", () => {
    const onlyCompares = parseTxn('version("k") != 2\n');
    expect(onlyCompares.compares[0].targetUnion).toEqual({ case: "version", value: 2n });
    expect(onlyCompares.success).toEqual([]);
    const noCompares = parseTxn("\nput k v\n");
    expect(noCompares.compares).toEqual([]);
    expect(noCompares.success.length).toBe(1);
  });

  test("mistakes name the line", () => {
    expect(() => parseTxn('value("k") ~ "v"')).toThrow(/txn line 1/);
    expect(() => parseTxn('mod("k") > "x"')).toThrow(/whole number/);
    expect(() => parseTxn("\nput k\n")).toThrow(/txn line 2: write it as put/);
    expect(() => parseTxn("\nfrob k\n")).toThrow(UsageError);
    expect(() => parseTxn("\n\n\n\nput k v")).toThrow(/fourth section/);
  });

  test("tokenize keeps quoted words and escapes", () => {
    expect(tokenize('put "a b" "c\\"d" e', 1)).toEqual(["put", "a b", 'c"d', "e"]);
  });
});

describe("durations", () => {
  test("units and bare seconds", () => {
    expect(parseDuration("30s")).toBe(30_000);
    expect(parseDuration("1h30m")).toBe(5_400_000);
    expect(parseDuration("250ms")).toBe(250);
    expect(parseDuration("10")).toBe(10_000);
    expect(() => parseDuration("soon")).toThrow(/500ms, 30s/);
  });
});

describe("flags", () => {
  const specs = [
    { name: "prefix", kind: "bool" as const, help: "" },
    { name: "limit", kind: "string" as const, help: "" },
    { name: "write-out", short: "w", kind: "string" as const, help: "" },
  ];
  test("long, =value, short, and -- ends flags", () => {
    const a = parseArgs(["k", "--prefix", "--limit=3", "-w", "json", "--", "--not-a-flag"], specs);
    expect(a.positionals).toEqual(["k", "--not-a-flag"]);
    expect(a.flags.get("prefix")).toBe(true);
    expect(a.flags.get("limit")).toBe("3");
    expect(a.flags.get("write-out")).toBe("json");
  });
  test("unknown flags and missing values are usage errors", () => {
    expect(() => parseArgs(["--nope"], specs)).toThrow(UsageError);
    expect(() => parseArgs(["--limit"], specs)).toThrow(/needs a value/);
  });
});
