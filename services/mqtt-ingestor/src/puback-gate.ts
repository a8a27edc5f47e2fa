import type { IPublishPacket } from 'mqtt';

/**
 * The parts of an MQTT.js client the gate hooks. `_sendPacket` is MQTT.js-internal (5.x): every
 * packet the client writes goes through it, including the PUBACK its publish handler sends once
 * `handleMessage` calls back.
 */
export interface GateableClient {
  handleMessage(packet: IPublishPacket, callback: (err?: Error) => void): void;
  stream: unknown;
  connected: boolean;
}
interface SendPacket {
  _sendPacket(
    packet: { cmd: string; messageId?: number },
    cb?: (err?: Error) => void,
    ...rest: unknown[]
  ): void;
}

interface Held {
  messageId: number;
  settled: boolean;
  ok: boolean;
  /** The PUBACK MQTT.js wanted to send, with its arguments; released once `settled && ok`. */
  send?: () => void;
}

interface Generation {
  stream: unknown;
  queue: Held[];
  byId: Map<number, Held>;
  /** MQTT.js's callback of a message received while the queue was full: it reads on once called. */
  blocked?: () => void;
}

export interface PubackGate {
  /** QoS 1 messages received on this session whose PUBACK is held (their produce is not acknowledged yet). */
  held(): number;
}

/**
 * Lets one MQTT session have many QoS 1 messages in flight while keeping "PUBACK only after Kafka acked".
 *
 * MQTT.js reads the next packet of a connection only after `handleMessage` called back, and calling
 * back sends the PUBACK, so a plain override handles one message per session per Kafka round trip.
 * The gate calls back at once (MQTT.js goes on reading), intercepts the PUBACK that follows and holds
 * it until `ingest` resolved. Held PUBACKs are released in the order their PUBLISHes arrived (MQTT 5
 * §4.6). A PUBACK whose ingest failed is never sent, nor one whose connection is gone: the broker
 * re-delivers those messages to the session (a re-delivery after a successful produce is a duplicate in
 * Kafka, which the writer's idempotent points absorb; a PUBACK sent on a newer connection could
 * acknowledge a different message that reuses the packet id). The number held per session is bounded by
 * the receive maximum the session advertises.
 */
export function gatePubacks(
  client: GateableClient,
  ingest: (packet: IPublishPacket) => Promise<void>,
  onError: (err: unknown, packet: IPublishPacket) => void,
  /**
   * Most messages held per session before the gate stops reading the connection (TCP back-pressure).
   * It should equal the receive maximum the session advertises; it also bounds memory when the broker
   * sends more than that (Mosquitto 2.0.11 was seen holding ~1,450 unacknowledged against 100).
   */
  maxHeld = 1_000,
): PubackGate {
  const internal = client as unknown as SendPacket;
  const send = internal._sendPacket.bind(client);
  let gen: Generation = { stream: client.stream, queue: [], byId: new Map() };

  const release = (g: Generation) => {
    // The head goes once its produce settled and, when it succeeded, MQTT.js has handed its PUBACK over.
    while (g.queue.length > 0 && g.queue[0]!.settled && (!g.queue[0]!.ok || g.queue[0]!.send)) {
      const h = g.queue.shift()!;
      g.byId.delete(h.messageId);
      if (h.ok && h.send && client.connected && client.stream === g.stream) h.send();
    }
    if (g.blocked && g.queue.length <= maxHeld) {
      const resume = g.blocked;
      g.blocked = undefined;
      resume();
    }
  };

  internal._sendPacket = (packet, cb, ...rest) => {
    const h =
      packet.cmd === 'puback' && packet.messageId !== undefined ? gen.byId.get(packet.messageId) : undefined;
    if (!h || h.send) {
      send(packet, cb, ...rest);
      return;
    }
    h.send = () => send(packet, undefined, ...rest);
    // MQTT.js's `done`: lets it parse the next packet of this connection now.
    cb?.();
    release(gen);
  };

  client.handleMessage = (packet, callback) => {
    if (packet.qos !== 1 || packet.messageId === undefined) {
      // QoS 0 has no PUBACK (QoS 2 is not subscribed): handle it in line.
      ingest(packet).then(
        () => callback(),
        (err: unknown) => {
          onError(err, packet);
          callback(err as Error);
        },
      );
      return;
    }
    if (gen.stream !== client.stream) gen = { stream: client.stream, queue: [], byId: new Map() };
    const g = gen;
    const h: Held = { messageId: packet.messageId, settled: false, ok: false };
    g.queue.push(h);
    g.byId.set(h.messageId, h);
    ingest(packet).then(
      () => {
        h.settled = true;
        h.ok = true;
        release(g);
      },
      (err: unknown) => {
        h.settled = true;
        onError(err, packet);
        release(g);
      },
    );
    // → MQTT.js sends the PUBACK, which the hook above holds, and reads the next packet; unless
    // maxHeld are waiting: then this message's callback waits and the connection is not read.
    if (g.queue.length > maxHeld) g.blocked = callback;
    else callback();
  };

  return { held: () => gen.queue.length };
}
