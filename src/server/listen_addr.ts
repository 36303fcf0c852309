/** Splits "host:port" or "[ipv6]:port" (port 0 = any free port). */
export function parseListenAddr(addr: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(addr);
  const port = m ? Number(m[3]) : -1;
  if (!m || port > 65535) throw new Error(`listen address "${addr}" is not host:port`);
  const host = m[1] ?? m[2];
  return { host: host === "" ? "0.0.0.0" : host, port };
}
