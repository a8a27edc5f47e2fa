// The contract between the PUBACK gate and MQTT.js: the gate hooks `_sendPacket`, an MQTT.js internal.
// These tests run the real MQTT.js client over an in-memory stream that plays the broker's side in raw
// MQTT 5 bytes, and fail when an MQTT.js version changes what the gate relies on: the version pinned,
// `_sendPacket` present, and the PUBACK of a QoS 1 message written through it, with MQTT.js's `done`,
// only after `handleMessage` called back.
import { createRequire } from 'node:module';
import { Duplex } from 'node:stream';
import { MqttClient, type IPublishPacket } from 'mqtt';
import { gatePubacks } from './puback-gate.js';

const require = createRequire(import.meta.url);

const CONNACK = Buffer.from([0x20, 0x03, 0x00, 0x00, 0x00]); // MQTT 5: no session, success, no properties
/** PUBLISH, QoS 1, topic `t`, no properties, payload `x`. */
const publish = (messageId: number) =>
  Buffer.from([0x32, 0x07, 0x00, 0x01, 0x74, messageId >> 8, messageId & 0xff, 0x00, 0x78]);
const PUBACK = 0x40;

/** Complete packets in what the client wrote (MQTT.js may write one packet in several chunks). */
function packets(bytes: Buffer): { type: number; body: Buffer }[] {
  const out: { type: number; body: Buffer }[] = [];
  let at = 0;
  while (at < bytes.length) {
    let length = 0;
    let shift = 0;
    let i = at + 1;
    for (; i < bytes.length; i++) {
      length |= (bytes[i]! & 0x7f) << shift;
      shift += 7;
      if ((bytes[i]! & 0x80) === 0) break;
    }
    if (i >= bytes.length || i + 1 + length > bytes.length) break;
    out.push({ type: bytes[at]! >> 4, body: bytes.subarray(i + 1, i + 1 + length) });
    at = i + 1 + length;
  }
  return out;
}

/** A real MQTT.js client connected to a stream whose other end the test writes and reads. */
async function connectedClient() {
  let written = Buffer.alloc(0);
  let stream!: Duplex;
  let connacked = false;
  const client = new MqttClient(
    () => {
      stream = new Duplex({
        read() {},
        write(chunk: Buffer, _enc, cb) {
          written = Buffer.concat([written, chunk]);
          if (!connacked && packets(written).some((p) => p.type === 1)) {
            connacked = true;
            this.push(CONNACK);
          }
          cb();
        },
      });
      return stream;
    },
    { protocolVersion: 5, clientId: 'contract', reconnectPeriod: 0, keepalive: 0 },
  );
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  const pubacks = () =>
    packets(written)
      .filter((p) => p.type === PUBACK >> 4)
      .map((p) => p.body.readUInt16BE(0));
  return { client, receive: (id: number) => stream.push(publish(id)), pubacks };
}

const settle = () => new Promise((r) => setImmediate(r));

describe('MQTT.js internals the PUBACK gate hooks', () => {
  it('is the exact MQTT.js version the ingestor pins', () => {
    const pinned = (require('../package.json') as { dependencies: Record<string, string> }).dependencies.mqtt;
    expect(pinned).toMatch(/^\d+\.\d+\.\d+$/);
    expect((require('mqtt/package.json') as { version: string }).version).toBe(pinned);
  });

  it('sends the PUBACK of a QoS 1 message through _sendPacket, with done, after handleMessage called back', async () => {
    const { client, receive, pubacks } = await connectedClient();
    try {
      expect(typeof (client as unknown as { _sendPacket: unknown })._sendPacket).toBe('function');
      const internal = client as unknown as { _sendPacket(p: { cmd: string }, cb?: () => void): void };
      const original = internal._sendPacket.bind(client);
      const seen: { cmd: string; messageId?: number; done: boolean }[] = [];
      internal._sendPacket = (p, cb) => {
        seen.push({ ...(p as { cmd: string; messageId?: number }), done: typeof cb === 'function' });
        original(p, cb);
      };
      let callBack: (() => void) | undefined;
      client.handleMessage = (_packet: IPublishPacket, cb: () => void) => {
        callBack = cb;
      };
      receive(7);
      await settle();
      expect(callBack).toBeDefined();
      expect(pubacks()).toEqual([]);
      expect(seen.filter((s) => s.cmd === 'puback')).toEqual([]);
      callBack!();
      await settle();
      expect(seen.filter((s) => s.cmd === 'puback')).toEqual([
        expect.objectContaining({ cmd: 'puback', messageId: 7, done: true }),
      ]);
      expect(pubacks()).toEqual([7]);
    } finally {
      client.end(true);
    }
  });

  it('lets the gate hold each PUBACK of the real client until its ingest resolved, in receive order', async () => {
    const { client, receive, pubacks } = await connectedClient();
    try {
      const pending = new Map<number, () => void>();
      gatePubacks(
        client,
        (p) => new Promise<void>((resolve) => pending.set(p.messageId!, resolve)),
        () => undefined,
      );
      receive(1);
      receive(2);
      await settle();
      expect([...pending.keys()]).toEqual([1, 2]); // MQTT.js read on before either was acknowledged
      pending.get(2)!();
      await settle();
      expect(pubacks()).toEqual([]);
      pending.get(1)!();
      await settle();
      expect(pubacks()).toEqual([1, 2]);
    } finally {
      client.end(true);
    }
  });
});
