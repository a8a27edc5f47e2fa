// Reads a V8 .cpuprofile (what `node --cpu-prof` writes) and sums self time per function.
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  }[];
  startTime: number;
  endTime: number;
  /** Node id on top of the stack at each sample. */
  samples: number[];
  /** Microseconds since the previous sample, one per sample. */
  timeDeltas: number[];
}

export interface ProfileFunction {
  name: string;
  /** file[:line] (1-based), relative to the repository or node_modules; empty for V8 pseudo-frames. */
  where: string;
  selfMs: number;
  percent: number;
}

const repo = fileURLToPath(new URL('../', import.meta.url));

function location(url: string, line: number): string {
  if (!url) return '';
  let path = url.startsWith('file://') ? fileURLToPath(url) : url;
  const nm = path.lastIndexOf('/node_modules/');
  if (nm >= 0) path = path.slice(nm + 1);
  else if (path.startsWith(repo)) path = relative(repo, path);
  // tsx's transpiled modules report every function on line 1 (no source maps here): path only.
  return line > 0 ? `${path}:${line + 1}` : path;
}

/**
 * The `n` functions with the most self time. A sample's time is the delta to the next sample
 * (the V8 convention: timeDeltas[i + 1] belongs to samples[i]); frames of the same function in
 * different call paths are added up. `(idle)` is left out of the list and of the percentages
 * (they are shares of busy time); `(program)` and `(garbage collector)` are kept.
 */
export function topProfileFunctions(
  profile: CpuProfile,
  n: number,
): { totalMs: number; busyMs: number; functions: ProfileFunction[] } {
  const keyOf = new Map<number, string>();
  const info = new Map<string, { name: string; where: string; us: number }>();
  for (const node of profile.nodes) {
    const f = node.callFrame;
    const name = f.functionName || '(anonymous)';
    const where = location(f.url, f.lineNumber);
    const key = `${name}\u0000${where}`;
    keyOf.set(node.id, key);
    if (!info.has(key)) info.set(key, { name, where, us: 0 });
  }
  let total = 0;
  let idle = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const us = profile.timeDeltas[i + 1] ?? 0;
    const key = keyOf.get(profile.samples[i]!);
    const entry = key === undefined ? undefined : info.get(key);
    if (!entry) continue;
    entry.us += us;
    total += us;
    if (entry.name === '(idle)') idle += us;
  }
  const busy = total - idle;
  const functions = [...info.values()]
    .filter((e) => e.us > 0 && e.name !== '(idle)')
    .sort((a, b) => b.us - a.us)
    .slice(0, n)
    .map((e) => ({
      name: e.name,
      where: e.where,
      selfMs: e.us / 1000,
      percent: busy > 0 ? (e.us / busy) * 100 : 0,
    }));
  return { totalMs: total / 1000, busyMs: busy / 1000, functions };
}

/** Where a frame's code lives: a package under node_modules, a workspace folder, node: internals or V8. */
function moduleOf(url: string, name: string): string {
  if (!url) return name.startsWith('(') ? name : '(native)';
  let path = url.startsWith('file://') ? fileURLToPath(url) : url;
  const nm = path.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const parts = path.slice(nm + '/node_modules/'.length).split('/');
    return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
  }
  if (path.startsWith('node:')) return path.split('/')[0]!;
  if (path.startsWith(repo)) {
    path = relative(repo, path);
    const parts = path.split('/');
    return parts.length >= 2 ? `${parts[0]}/${parts[1]}` : path;
  }
  return path;
}

/** Self time summed per module (moduleOf), the `n` largest, as shares of busy time. */
export function topProfileModules(profile: CpuProfile, n: number): { module: string; percent: number }[] {
  const moduleById = new Map<number, string>();
  for (const node of profile.nodes)
    moduleById.set(node.id, moduleOf(node.callFrame.url, node.callFrame.functionName));
  const us = new Map<string, number>();
  let busy = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const m = moduleById.get(profile.samples[i]!);
    if (m === undefined || m === '(idle)') continue;
    const d = profile.timeDeltas[i + 1] ?? 0;
    us.set(m, (us.get(m) ?? 0) + d);
    busy += d;
  }
  return [...us]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([module, t]) => ({ module, percent: busy > 0 ? (t / busy) * 100 : 0 }));
}
