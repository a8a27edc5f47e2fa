import { loadFixture } from '../test/fixtures.js';
import { FrameSplitter, type SplitterEvent } from './splitter.js';

const frames = [...loadFixture('standard-examples.txt'), ...loadFixture('field-captures.txt')].map((f) =>
  Buffer.from(`${f.line}\r\n`, 'utf8'),
);
const stream = Buffer.concat(frames);

const framesOf = (events: SplitterEvent[]): Buffer[] =>
  events.flatMap((e) => (e.kind === 'frame' ? [e.frame] : []));
const errorsOf = (events: SplitterEvent[]): string[] =>
  events.flatMap((e) => (e.kind === 'error' ? [e.error.code] : []));

function feed(splitter: FrameSplitter, data: Buffer, sizes: (i: number) => number): SplitterEvent[] {
  const out: SplitterEvent[] = [];
  for (let pos = 0, i = 0; pos < data.length; i++) {
    const n = Math.max(1, sizes(i));
    out.push(...splitter.push(data.subarray(pos, pos + n)));
    pos += n;
  }
  return out;
}

describe('FrameSplitter', () => {
  it('yields every frame of one merged read', () => {
    const s = new FrameSplitter();
    const events = s.push(stream);
    expect(framesOf(events)).toEqual(frames);
    expect(errorsOf(events)).toEqual([]);
    expect(s.buffered).toBe(0);
  });

  it('keeps its own copy of a partial frame: a pushed chunk reused afterwards does not corrupt it', () => {
    const s = new FrameSplitter();
    const frame = frames[0] as Buffer;
    const chunk = Buffer.from(frame.subarray(0, 20));
    expect(s.push(chunk)).toEqual([]);
    chunk.fill(0x58);
    expect(framesOf(s.push(frame.subarray(20)))).toEqual([frame]);
  });

  it.each([1, 2, 3, 7, 64, 1000])('yields the same frames when fed %i bytes at a time', (n) => {
    const events = feed(new FrameSplitter(), stream, () => n);
    expect(framesOf(events)).toEqual(frames);
    expect(errorsOf(events)).toEqual([]);
  });

  it('splits inside a multi-byte Chinese character', () => {
    const chinese = frames[5]!;
    const cut = chinese.indexOf(Buffer.from('清')) + 1;
    const s = new FrameSplitter();
    expect(s.push(chinese.subarray(0, cut))).toEqual([]);
    expect(framesOf(s.push(chinese.subarray(cut)))).toEqual([chinese]);
  });

  it('resynchronises on garbage and reports the skipped bytes', () => {
    const s = new FrameSplitter();
    const events = s.push(
      Buffer.concat([Buffer.from('xx#junk##ab'), frames[0]!, Buffer.from('\r\nnoise'), frames[1]!]),
    );
    expect(framesOf(events)).toEqual([frames[0], frames[1]]);
    const errors = events.filter((e) => e.kind === 'error');
    expect(errors.map((e) => e.kind === 'error' && e.error.code)).toEqual(['garbage', 'garbage']);
    expect(errors.map((e) => e.kind === 'error' && e.bytes.toString())).toEqual(['xx#junk##ab', '\r\nnoise']);
  });

  it('keeps a trailing "#" that may start the next frame', () => {
    const s = new FrameSplitter();
    const f = frames[0]!;
    expect(s.push(Buffer.concat([Buffer.from('zz'), f.subarray(0, 1)]))).toMatchObject([{ kind: 'error' }]);
    expect(framesOf(s.push(f.subarray(1)))).toEqual([f]);
  });

  it('reports a frame cut short by the next one', () => {
    const s = new FrameSplitter();
    const events = s.push(Buffer.concat([frames[1]!.subarray(0, 50), frames[0]!]));
    expect(errorsOf(events)).toEqual(['frame-truncated']);
    expect(framesOf(events)).toEqual([frames[0]]);
  });

  it('rejects frames larger than the maximum and resynchronises', () => {
    const s = new FrameSplitter({ maxSegmentBytes: 200 });
    const events = s.push(Buffer.concat([frames[1]!, frames[0]!]));
    expect(errorsOf(events)[0]).toBe('frame-too-large');
    expect(framesOf(events)).toEqual([frames[0]]);
  });

  it('gives up on a frame whose end never comes within the maximum', () => {
    const s = new FrameSplitter({ maxSegmentBytes: 100 });
    const events = s.push(Buffer.from(`##0050${'x'.repeat(300)}`));
    expect(errorsOf(events)).toContain('frame-too-large');
    expect(s.buffered).toBeLessThan(10);
  });

  it('accepts a frame with a wrong declared length only when the policy allows', () => {
    const wrong = (len: string): Buffer => Buffer.concat([Buffer.from(`##${len}`), frames[0]!.subarray(6)]);
    for (const len of ['0090', '0150']) {
      const tolerant = new FrameSplitter().push(Buffer.concat([wrong(len), frames[2]!]));
      expect(framesOf(tolerant)).toEqual([wrong(len), frames[2]]);
      const strict = new FrameSplitter({ policy: 'strict' }).push(Buffer.concat([wrong(len), frames[2]!]));
      expect(errorsOf(strict)).toEqual(['length-mismatch']);
      expect(framesOf(strict)).toEqual([frames[2]]);
    }
  });

  it('waits for the rest of a frame, and reports leftovers at end of stream', () => {
    const s = new FrameSplitter();
    expect(s.push(frames[1]!.subarray(0, 100))).toEqual([]);
    expect(s.buffered).toBe(100);
    const end = s.end();
    expect(end).toMatchObject([{ kind: 'error', error: { code: 'frame-truncated' } }]);
    expect(s.end()).toEqual([]);
  });

  it('reports each of a run of short starts ("##0001" repeated) as one truncated piece, the last one kept', () => {
    const s = new FrameSplitter();
    const events = s.push(Buffer.from('##0001'.repeat(1000) + 'x\r\n'));
    expect(events).toHaveLength(999);
    expect(events.every((e) => e.kind === 'error' && e.error.code === 'frame-truncated')).toBe(true);
    expect(events.every((e) => e.kind === 'error' && e.bytes.toString() === '##0001')).toBe(true);
    expect(s.buffered).toBe(9);
  });
});
