// A lean MQTT 5 QoS 1 publisher for the ingest benchmark: the meters it stands for are not on the
// machine in production, so the load generator should take as little of the shared CPUs as it can.
// It speaks the protocol directly (CONNECT, PUBLISH QoS 1, PUBACK) over one TCP connection and writes
// the PUBLISHes of one tick in one socket write; MQTT.js spent ~16 µs of CPU per message here, most of
// it in its stores, streams and per-packet callbacks. What reaches the broker is the same: one QoS 1
// PUBLISH per reading, acknowledged by the broker with a PUBACK.
import net from 'node:net';

export interface RawPublisherOptions {
  url: string;
  clientId: string;
  username?: string;
  password?: string;
  /** Called once per PUBACK; `ok` is false for a reason code ≥ 0x80 (e.g. 0x87 not authorized). */
  onAck(ok: boolean): void;
}

export interface RawPublisher {
  /** Queues one QoS 1 PUBLISH; the queued ones go out in one write at the end of the tick. */
  publish(topic: string, payload: string): void;
  end(): Promise<void>;
}

/** MQTT variable byte integer (remaining length), written at `at`; returns the next offset. */
function writeVarInt(buf: Buffer, at: number, n: number): number {
  let v = n;
  do {
    let b = v % 128;
    v = Math.floor(v / 128);
    if (v > 0) b |= 0x80;
    buf[at++] = b;
  } while (v > 0);
  return at;
}
const varIntSize = (n: number) => (n < 128 ? 1 : n < 16_384 ? 2 : n < 2_097_152 ? 3 : 4);

function utf8Field(s: string): Buffer {
  const b = Buffer.from(s, 'utf8');
  const out = Buffer.allocUnsafe(2 + b.length);
  out.writeUInt16BE(b.length, 0);
  b.copy(out, 2);
  return out;
}

function connectPacket(o: RawPublisherOptions): Buffer {
  const flags = 0x02 | (o.username ? 0x80 : 0) | (o.password ? 0x40 : 0); // clean start
  const variable = Buffer.from([0, 4, 0x4d, 0x51, 0x54, 0x54, 5, flags, 0, 0, 0]); // "MQTT", v5, keep-alive 0, no properties
  const payload = [utf8Field(o.clientId)];
  if (o.username) payload.push(utf8Field(o.username));
  if (o.password) payload.push(utf8Field(o.password));
  const body = Buffer.concat([variable, ...payload]);
  const head = Buffer.allocUnsafe(1 + varIntSize(body.length));
  head[0] = 0x10;
  writeVarInt(head, 1, body.length);
  return Buffer.concat([head, body]);
}

export function connectRawPublisher(o: RawPublisherOptions): Promise<RawPublisher> {
  const u = new URL(o.url);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: u.hostname, port: Number(u.port || 1883), noDelay: true });
    let rx: Buffer = Buffer.alloc(0);
    let connected = false;
    let nextId = 1;
    let queued: Buffer[] = [];
    let flushScheduled = false;
    const flush = () => {
      flushScheduled = false;
      if (queued.length === 0) return;
      const chunk = queued.length === 1 ? queued[0]! : Buffer.concat(queued);
      queued = [];
      socket.write(chunk);
    };
    const publisher: RawPublisher = {
      publish(topic, payload) {
        const topicLen = Buffer.byteLength(topic, 'utf8');
        const payloadLen = Buffer.byteLength(payload, 'utf8');
        const remaining = 2 + topicLen + 2 + 1 + payloadLen; // topic, packet id, properties length 0
        const buf = Buffer.allocUnsafe(1 + varIntSize(remaining) + remaining);
        buf[0] = 0x32; // PUBLISH, QoS 1
        let at = writeVarInt(buf, 1, remaining);
        buf.writeUInt16BE(topicLen, at);
        at += 2;
        at += buf.write(topic, at, 'utf8');
        buf.writeUInt16BE(nextId, at);
        nextId = nextId === 65_535 ? 1 : nextId + 1;
        buf[at + 2] = 0;
        buf.write(payload, at + 3, 'utf8');
        queued.push(buf);
        if (!flushScheduled) {
          flushScheduled = true;
          setImmediate(flush);
        }
      },
      end: () =>
        new Promise<void>((done) => {
          flush();
          socket.end(Buffer.from([0xe0, 0]), () => done()); // DISCONNECT, normal
        }),
    };
    socket.once('error', (err) => (connected ? undefined : reject(err)));
    socket.on('data', (data: Buffer) => {
      rx = rx.length === 0 ? data : Buffer.concat([rx, data]);
      let at = 0;
      for (;;) {
        if (rx.length - at < 2) break;
        // Fixed header: type byte, remaining length (variable byte integer).
        let len = 0;
        let mul = 1;
        let i = at + 1;
        let complete = false;
        while (i < rx.length && i < at + 5) {
          const b = rx[i++]!;
          len += (b & 0x7f) * mul;
          mul *= 128;
          if ((b & 0x80) === 0) {
            complete = true;
            break;
          }
        }
        if (!complete || rx.length - i < len) break;
        const type = rx[at]! >> 4;
        if (type === 4) o.onAck(len < 3 || rx[i + 2]! < 0x80);
        else if (type === 2) {
          const reason = rx[i + 1]!;
          if (reason !== 0) {
            reject(new Error(`CONNACK reason 0x${reason.toString(16)}`));
            socket.destroy();
            return;
          }
          connected = true;
          resolve(publisher);
        } else if (type === 14) socket.destroy(new Error('broker sent DISCONNECT'));
        at = i + len;
      }
      rx = at === rx.length ? Buffer.alloc(0) : rx.subarray(at);
    });
    socket.write(connectPacket(o));
  });
}
