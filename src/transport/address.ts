// "host:port" addresses as the cluster configuration spells them ("[::1]:7001" for IPv6).

export interface HostPort {
  host: string;
  port: number;
}

export function parseHostPort(addr: string): HostPort {
  const colon = addr.lastIndexOf(":");
  if (colon <= 0) throw new Error(`address "${addr}" is not host:port`);
  let host = addr.slice(0, colon);
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  const portText = addr.slice(colon + 1);
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) throw new Error(`address "${addr}" has no valid port`);
  return { host, port };
}

export function formatHostPort({ host, port }: HostPort): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}
