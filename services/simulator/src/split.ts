/**
 * HJ 212 split packets (domain-rules.md §1): a data segment longer than the nominal 1024 bytes is
 * sent as PNUM parts numbered PNO 1..PNUM, sharing QN, ST, CN, PW and MN, with the Flag's D bit
 * set. The CP items are dealt out in order (DataTime stays in the first part), so the receiver's
 * reassembler (packages/hj212 SplitPacketReassembler) joining the parts' items in PNO order gets
 * the original CP back. HJ/T 212-2005 packets carry no Flag to announce a split and are sent whole.
 */
import { encodeSegment, type CpItem, type EncodeOptions, type PacketInput } from '@offsite/hj212';

/** The standard's limit on a data segment. */
export const MAX_SEGMENT_BYTES = 1024;
/** Flag bit D: the packet carries PNUM/PNO. */
export const FLAG_SPLIT = 2;

const segmentBytes = (p: PacketInput, options: EncodeOptions) =>
  Buffer.byteLength(encodeSegment(p, options), 'utf8');

/**
 * The packet itself when its segment fits in `maxBytes` (or it cannot be split), else its parts.
 * A single CP item larger than the limit on its own still travels as one (oversized) part; CP given as
 * text is sent whole.
 */
export function splitPacket(
  packet: PacketInput,
  maxBytes: number = MAX_SEGMENT_BYTES,
  options: EncodeOptions = {},
): PacketInput[] {
  if (packet.flag === null || packet.flag === undefined) return [packet];
  if (segmentBytes(packet, options) <= maxBytes) return [packet];
  // CP given as text (never by this simulator's models) is sent as it is.
  if (typeof packet.cp === 'string') return [packet];
  const items: readonly CpItem[] = packet.cp ?? [];
  if (items.length < 2) return [packet];
  // PNUM/PNO widths grow with the count: size the parts against the largest header they can get.
  const wide = { ...packet, flag: packet.flag | FLAG_SPLIT, pnum: 9999, pno: 9999 };
  const groups: CpItem[][] = [];
  let current: CpItem[] = [];
  for (const item of items) {
    const candidate = [...current, item];
    if (current.length > 0 && segmentBytes({ ...wide, cp: candidate }, options) > maxBytes) {
      groups.push(current);
      current = [item];
    } else current = candidate;
  }
  groups.push(current);
  if (groups.length === 1) return [packet];
  return groups.map((cp, i) => ({
    ...packet,
    flag: (packet.flag as number) | FLAG_SPLIT,
    pnum: groups.length,
    pno: i + 1,
    cp,
  }));
}
