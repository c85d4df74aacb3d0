// Peer addresses as configured: "host:port", or "[v6 address]:port".

export interface PeerAddress {
  readonly host: string;
  readonly port: number;
}

export function parsePeerAddress(address: string): PeerAddress {
  const bad = (why: string): never => {
    throw new RangeError(`peer address ${JSON.stringify(String(address).slice(0, 100))} ${why} (expected "host:port")`);
  };
  if (typeof address !== 'string') return bad('is not a string');
  const colon = address.lastIndexOf(':');
  if (colon <= 0) return bad('has no port');
  let host = address.slice(0, colon);
  const portText = address.slice(colon + 1);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  else if (host.includes(':')) return bad('needs brackets around an IPv6 host');
  if (host.length === 0 || /[\s/[\]]/.test(host)) return bad('has an invalid host');
  if (!/^[0-9]{1,5}$/.test(portText)) return bad('has an invalid port');
  const port = Number(portText);
  if (port < 1 || port > 65535) return bad('has a port out of range');
  return { host, port };
}
