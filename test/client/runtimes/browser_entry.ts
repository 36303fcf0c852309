// Bundled for the browser by the runtimes test: the smart client over gRPC-Web, exposed on window.
import { createGrpcWebTransport } from "@connectrpc/connect-web";
import { compare, createRbkvClient, op } from "../../../src/client";

async function roundTrip(endpoint: string): Promise<{ value: string | undefined; cas: boolean; watched: string }> {
  const client = createRbkvClient({ endpoints: [endpoint], transport: (baseUrl) => createGrpcWebTransport({ baseUrl }) });
  await client.put("runtime/browser", "hello from the browser");
  const kv = await client.get("runtime/browser");
  const txn = await client.txn().if(compare.value("runtime/browser", "=", "hello from the browser")).then(op.put("runtime/browser", "swapped")).commit();
  const abort = new AbortController();
  let watched = "";
  for await (const event of client.watch("runtime/browser", { startRevision: BigInt(kv?.modRevision ?? 1n), signal: abort.signal })) {
    watched += `${event.type}:${event.kv.valueText};`;
    if (watched.includes("swapped")) break;
  }
  abort.abort();
  client.close();
  return { value: kv?.valueText, cas: txn.succeeded, watched };
}

(window as unknown as { rbkvRoundTrip: typeof roundTrip }).rbkvRoundTrip = roundTrip;
