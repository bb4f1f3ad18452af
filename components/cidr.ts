/**
 * IPv4 CIDR arithmetic, the one implementation the program has (on ipaddr.js): parsing, overlap,
 * and carving a range into equal blocks. Pure; config validation and the components share it.
 */
import ipaddr from "ipaddr.js";

const IPV4_BITS = 32;

/** A parsed IPv4 CIDR block whose address is its network address (no host bits set). */
export interface Ipv4Block {
  readonly network: ipaddr.IPv4;
  readonly prefix: number;
}

/**
 * Parses `a.b.c.d/n` in four-part decimal, refusing a block with host bits set (10.0.1.0/16),
 * which AWS would silently round down; undefined when it does not parse.
 */
export function parseIpv4Block(value: string): Ipv4Block | undefined {
  if (!ipaddr.IPv4.isValidCIDRFourPartDecimal(value)) return undefined;
  const [address, prefix] = ipaddr.IPv4.parseCIDR(value);
  const network = ipaddr.IPv4.networkAddressFromCIDR(value);
  if (network.toString() !== address.toString()) return undefined;
  return { network, prefix };
}

/** Whether two blocks share any address (one contains the other, since CIDR blocks nest). */
export function blocksOverlap(a: Ipv4Block, b: Ipv4Block): boolean {
  return a.network.match(b.network, Math.min(a.prefix, b.prefix));
}

/**
 * The `index`th block of `newBits` longer prefix inside `block` (block 0 starts at its network
 * address), as CIDR text.
 * @throws when the block has no room for it.
 */
export function subBlock(block: Ipv4Block, newBits: number, index: number): string {
  const prefix = block.prefix + newBits;
  if (prefix > IPV4_BITS || !Number.isInteger(index) || index < 0 || index >= 2 ** newBits) {
    throw new Error(
      `${block.network.toString()}/${block.prefix} has no block ${index} of /${prefix}`,
    );
  }
  const base = block.network.toByteArray().reduce((sum, octet) => sum * 256 + octet, 0);
  const address = base + index * 2 ** (IPV4_BITS - prefix);
  const octets = [24, 16, 8, 0].map((shift) => Math.floor(address / 2 ** shift) % 256);
  return `${new ipaddr.IPv4(octets).toString()}/${prefix}`;
}
