// Bundled for Node by the runtimes test: put and get through the smart client, print the result.
import { createNodeClient } from "../../../src/client/node";

const client = createNodeClient([process.argv[2] ?? "localhost:9501"]);
await client.put("runtime/node", "hello from node");
const kv = await client.get("runtime/node");
console.log(JSON.stringify({ value: kv?.valueText, version: String(kv?.version) }));
client.close();
