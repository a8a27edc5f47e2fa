import type { IPublishPacket } from 'mqtt';
import { gatePubacks, type GateableClient } from './puback-gate.js';

/** A stand-in for the MQTT.js client: records what _sendPacket writes, like its publish handler calls it. */
function fakeClient() {
  const written: number[] = [];
  let doneCalls = 0;
  const client = {
    stream: {},
    connected: true,
    handleMessage: (_p: IPublishPacket, cb: (err?: Error) => void) => cb(),
    _sendPacket(packet: { cmd: string; messageId?: number }, cb?: () => void) {
      written.push(packet.messageId!);
      cb?.();
    },
  };
  /** What MQTT.js's handlePublish does for QoS 1: handleMessage, then the PUBACK, then `done`. */
  const receive = (messageId: number) =>
    client.handleMessage(
      { cmd: 'publish', qos: 1, messageId, topic: 't', payload: '' } as IPublishPacket,
      (err) => {
        if (err) return;
        client._sendPacket({ cmd: 'puback', messageId }, () => void (doneCalls += 1));
      },
    );
  return { client: client as GateableClient & typeof client, written, receive, done: () => doneCalls };
}

function deferred() {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
const tick = () => new Promise((r) => setImmediate(r));

describe('gatePubacks', () => {
  it('lets the session read on before the produce is acknowledged and holds each PUBACK until then', async () => {
    const f = fakeClient();
    const produced = new Map<number, ReturnType<typeof deferred>>();
    const gate = gatePubacks(
      f.client,
      (p) => {
        const d = deferred();
        produced.set(p.messageId!, d);
        return d.promise;
      },
      () => undefined,
    );
    for (const id of [1, 2, 3]) f.receive(id);
    expect(f.done()).toBe(3); // MQTT.js may parse the next packet after each
    expect(f.written).toEqual([]); // but no PUBACK yet
    expect(gate.held()).toBe(3);
    produced.get(2)!.resolve();
    await tick();
    expect(f.written).toEqual([]); // 2 waits for 1: PUBACKs go in receive order
    produced.get(1)!.resolve();
    await tick();
    expect(f.written).toEqual([1, 2]);
    produced.get(3)!.resolve();
    await tick();
    expect(f.written).toEqual([1, 2, 3]);
    expect(gate.held()).toBe(0);
  });

  it('never acknowledges a message whose produce failed, and releases the ones behind it', async () => {
    const f = fakeClient();
    const errors: unknown[] = [];
    gatePubacks(
      f.client,
      async (p) => {
        if (p.messageId === 1) throw new Error('shutting down');
      },
      (err) => errors.push(err),
    );
    f.receive(1);
    f.receive(2);
    await tick();
    expect(f.written).toEqual([2]);
    expect(errors).toHaveLength(1);
  });

  it('drops the PUBACKs of a connection that is gone (the broker re-delivers on the new one)', async () => {
    const f = fakeClient();
    const d = deferred();
    gatePubacks(
      f.client,
      () => d.promise,
      () => undefined,
    );
    f.receive(7);
    f.client.stream = {}; // reconnected: packet id 7 may now name another message
    d.resolve();
    await tick();
    expect(f.written).toEqual([]);
    // A message with the same id on the new connection is acknowledged after its own produce.
    f.receive(7);
    await tick();
    expect(f.written).toEqual([7]);
  });
});

describe('gatePubacks back-pressure', () => {
  it('stops reading the connection while maxHeld messages wait, and reads on once one is acknowledged', async () => {
    const f = fakeClient();
    const produced: ReturnType<typeof deferred>[] = [];
    const gate = gatePubacks(
      f.client,
      () => {
        const d = deferred();
        produced.push(d);
        return d.promise;
      },
      () => undefined,
      2,
    );
    for (const id of [1, 2, 3]) f.receive(id);
    expect(f.done()).toBe(2); // the third message's callback waits: MQTT.js reads no further
    expect(gate.held()).toBe(3);
    produced[2]!.resolve(); // the waiting one is produced first: still no PUBACK out of order
    await tick();
    expect(f.written).toEqual([]);
    produced[0]!.resolve();
    await tick();
    expect(f.written).toEqual([1]);
    expect(f.done()).toBe(3); // room again: its callback ran, the PUBACK was handed over
    produced[1]!.resolve();
    await tick();
    expect(f.written).toEqual([1, 2, 3]);
    expect(gate.held()).toBe(0);
  });
});
