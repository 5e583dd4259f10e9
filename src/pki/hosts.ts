// Host names and IP literals as subjectAltName entries, and the comparison key that detects a change.
import net from 'node:net';
import { domainToASCII } from 'node:url';
import forge from 'node-forge';

export type HostEntry = { kind: 'dns'; name: string } | { kind: 'ip'; text: string; bytes: Buffer };

const SAN_DNS = 2;
const SAN_IP = 7;

/** Accepts DNS names (IDN converted to punycode, `*.` wildcards) and IPv4/IPv6 literals (brackets allowed). */
export function parseHost(host: string): HostEntry {
  const trimmed = host.trim().replace(/^\[(.*)\]$/, '$1');
  const family = net.isIP(trimmed);
  if (family === 4) {
    return { kind: 'ip', text: trimmed, bytes: Buffer.from(trimmed.split('.').map(Number)) };
  }
  if (family === 6) {
    if (trimmed.includes('%'))
      throw new RangeError(`"${host}": a zone id cannot go in a certificate.`);
    // The WHATWG URL parser canonicalizes (embedded IPv4, zero runs), leaving plain hex groups.
    const canonical = new URL(`http://[${trimmed}]/`).hostname.slice(1, -1);
    return { kind: 'ip', text: canonical, bytes: ipv6Bytes(canonical) };
  }
  const wildcard = trimmed.startsWith('*.');
  const ascii = domainToASCII(wildcard ? trimmed.slice(2) : trimmed).replace(/\.$/, '');
  if (!ascii || !/^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/.test(ascii)) {
    throw new RangeError(`"${host}" is neither a DNS name nor an IP address.`);
  }
  return { kind: 'dns', name: wildcard ? `*.${ascii}` : ascii };
}

function ipv6Bytes(canonical: string): Buffer {
  const [head = '', tail] = canonical.split('::');
  const groupsOf = (part: string) => (part === '' ? [] : part.split(':'));
  const left = groupsOf(head);
  const right = tail === undefined ? [] : groupsOf(tail);
  const zeros = tail === undefined ? [] : Array<string>(8 - left.length - right.length).fill('0');
  const bytes = Buffer.alloc(16);
  [...left, ...zeros, ...right].forEach((group, i) =>
    bytes.writeUInt16BE(parseInt(group, 16), i * 2),
  );
  return bytes;
}

/** Parses and de-duplicates, keeping the first occurrence's position. */
export function parseHosts(hosts: readonly string[]): HostEntry[] {
  const seen = new Set<string>();
  const entries: HostEntry[] = [];
  for (const host of hosts) {
    const entry = parseHost(host);
    if (seen.has(hostKey(entry))) continue;
    seen.add(hostKey(entry));
    entries.push(entry);
  }
  if (entries.length === 0) throw new RangeError('The server certificate needs at least one host.');
  return entries;
}

export function hostKey(entry: HostEntry): string {
  return entry.kind === 'dns' ? `dns:${entry.name}` : `ip:${entry.bytes.toString('hex')}`;
}

export function hostText(entry: HostEntry): string {
  return entry.kind === 'dns' ? entry.name : entry.text;
}

/** forge subjectAltName entries; IPs go in as raw bytes because forge's own IPv6 parser is lax. */
export function subjectAltNames(entries: readonly HostEntry[]): object[] {
  return entries.map((e) =>
    e.kind === 'dns'
      ? { type: SAN_DNS, value: e.name }
      : { type: SAN_IP, value: e.bytes.toString('binary') },
  );
}

/** The sorted host keys a certificate is valid for, to compare with the configured hosts. */
export function hostKeysOfCertificate(certPem: string): string[] {
  const cert = forge.pki.certificateFromPem(certPem);
  const san = cert.getExtension('subjectAltName') as {
    altNames?: Array<{ type: number; value: string }>;
  } | null;
  return (san?.altNames ?? [])
    .map((n) =>
      n.type === SAN_DNS
        ? `dns:${n.value.toLowerCase()}`
        : n.type === SAN_IP
          ? `ip:${Buffer.from(n.value, 'binary').toString('hex')}`
          : `other:${n.type}`,
    )
    .sort();
}
