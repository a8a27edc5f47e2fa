/**
 * Split packets (Flag bit D, PNUM/PNO): parts of one packet share MN and QN. The reassembler joins
 * their CP items in PNO order, bounded in parts, bytes, open groups and time. Time is passed in
 * (no timers): call `expire(now)` periodically, e.g. from the connection's read loop.
 */
import { interpretCp, type Packet } from './packet.js';
import type { DecodeError } from './result.js';
import type { Irregularity } from './irregularities.js';

export interface ReassemblerOptions {
  /** A group not completed within this time is dropped (default 60 s). */
  readonly timeoutMs?: number;
  /** Largest PNUM accepted (default 256). */
  readonly maxParts?: number;
  /** Largest total of segment bytes of one group (default 1 MiB). */
  readonly maxBytes?: number;
  /** Most groups open at once (default 1024). */
  readonly maxGroups?: number;
}

export type ReassemblyResult =
  | { readonly status: 'complete'; readonly packet: Packet; readonly parts: number }
  | { readonly status: 'pending'; readonly received: number; readonly pnum: number }
  | { readonly status: 'error'; readonly error: DecodeError };

export interface ExpiredGroup {
  readonly mn: string;
  readonly qn: string | null;
  readonly received: number;
  readonly pnum: number;
  readonly error: DecodeError;
}

interface Group {
  readonly first: number;
  readonly pnum: number;
  readonly parts: Map<number, Packet>;
  bytes: number;
}

export class SplitPacketReassembler {
  private readonly groups = new Map<string, Group>();
  private readonly timeoutMs: number;
  private readonly maxParts: number;
  private readonly maxBytes: number;
  private readonly maxGroups: number;

  constructor(options: ReassemblerOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.maxParts = options.maxParts ?? 256;
    this.maxBytes = options.maxBytes ?? 1024 * 1024;
    this.maxGroups = options.maxGroups ?? 1024;
  }

  get openGroups(): number {
    return this.groups.size;
  }

  add(packet: Packet, nowMs: number): ReassemblyResult {
    if (packet.pnum === null || packet.pno === null) return { status: 'complete', packet, parts: 1 };
    const { pnum, pno } = packet;
    const err = (code: DecodeError['code'], message: string): ReassemblyResult => ({
      status: 'error',
      error: { code, message },
    });
    if (pnum > this.maxParts) return err('split-overflow', `PNUM ${pnum} exceeds ${this.maxParts}`);
    const key = `${packet.mn}\u0000${packet.qn ?? ''}`;
    let group = this.groups.get(key);
    if (group && nowMs - group.first > this.timeoutMs) {
      this.groups.delete(key);
      group = undefined;
    }
    if (!group) {
      if (this.groups.size >= this.maxGroups) {
        return err('split-overflow', `${this.maxGroups} split packets already open`);
      }
      group = { first: nowMs, pnum, parts: new Map(), bytes: 0 };
      this.groups.set(key, group);
    }
    if (group.pnum !== pnum) {
      this.groups.delete(key);
      return err('split-inconsistent', `PNUM changed from ${group.pnum} to ${pnum} within MN/QN`);
    }
    if (group.parts.has(pno)) return err('split-duplicate', `part ${pno}/${pnum} received twice`);
    group.bytes += packet.segmentBytes;
    if (group.bytes > this.maxBytes) {
      this.groups.delete(key);
      return err('split-overflow', `split packet exceeds ${this.maxBytes} bytes`);
    }
    group.parts.set(pno, packet);
    if (group.parts.size < pnum) return { status: 'pending', received: group.parts.size, pnum };
    this.groups.delete(key);
    return this.merge(group);
  }

  /** Drop the groups older than the timeout and report them. */
  expire(nowMs: number): ExpiredGroup[] {
    const out: ExpiredGroup[] = [];
    for (const [key, group] of this.groups) {
      if (nowMs - group.first <= this.timeoutMs) continue;
      this.groups.delete(key);
      const any = group.parts.values().next().value as Packet;
      out.push({
        mn: any.mn,
        qn: any.qn,
        received: group.parts.size,
        pnum: group.pnum,
        error: {
          code: 'split-timeout',
          message: `only ${group.parts.size} of ${group.pnum} parts within ${this.timeoutMs} ms`,
        },
      });
    }
    return out;
  }

  private merge(group: Group): ReassemblyResult {
    const parts = [...group.parts.entries()].sort((a, b) => a[0] - b[0]).map(([, p]) => p);
    const first = parts[0] as Packet;
    const cp = parts.flatMap((p) => p.cp);
    const content = interpretCp(cp);
    if (!content.ok) return { status: 'error', error: content.error };
    const irregularities = [...new Set<Irregularity>(parts.flatMap((p) => p.irregularities))];
    const { has2005Codes: _unused, ...rest } = content.value;
    return {
      status: 'complete',
      parts: parts.length,
      packet: {
        ...first,
        ...rest,
        pno: null,
        cp,
        segment: parts.map((p) => p.segment).join('\n'),
        segmentBytes: group.bytes,
        irregularities,
      },
    };
  }
}
