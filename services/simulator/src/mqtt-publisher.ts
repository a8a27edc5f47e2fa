/**
 * Meter gateways over MQTT: QoS 1 publishes of meter-energy.v1 JSON. One client per broker
 * username: an enterprise's gateway account (on the device listener, where the broker makes the
 * username the client id) when credentials are known, else the service account.
 */
import mqtt, { type MqttClient } from 'mqtt';
import type { MeterEnergyV1 } from '@offsite/contracts';
import type { MeterPublisher } from './driver.js';

export interface MqttPublisherOptions {
  readonly url: string;
  /** Where enterprise gateway accounts connect. */
  readonly deviceUrl: string;
  /** For an mqtts:// URL: the PEM of the CA that signed the broker's certificate (default: the system's CAs). */
  readonly ca?: string | undefined;
  readonly username: string | null;
  readonly password: string | null;
  /** Per-enterprise gateway accounts: broker username → password. */
  readonly credentials: Readonly<Record<string, string>>;
  readonly clientIdPrefix: string;
}

export interface ClosableMeterPublisher extends MeterPublisher {
  close(): Promise<void>;
}

export function createMqttPublisher(o: MqttPublisherOptions): ClosableMeterPublisher {
  const clients = new Map<string, MqttClient>();
  const clientFor = (username: string | null): MqttClient => {
    const own = username !== null && o.credentials[username] !== undefined ? username : null;
    const key = own ?? '(service)';
    let c = clients.get(key);
    if (!c) {
      c = mqtt.connect(own ? o.deviceUrl : o.url, {
        protocolVersion: 5,
        clientId: `${o.clientIdPrefix}-${key}`.slice(0, 64),
        username: own ?? o.username ?? undefined,
        password: own ? o.credentials[own] : (o.password ?? undefined),
        reconnectPeriod: 1000,
        clean: true,
        ...(o.ca !== undefined ? { ca: o.ca } : {}),
      });
      clients.set(key, c);
    }
    return c;
  };
  return {
    async publish(topic, payload: MeterEnergyV1, username) {
      await clientFor(username).publishAsync(topic, JSON.stringify(payload), { qos: 1 });
    },
    async close() {
      await Promise.all([...clients.values()].map((c) => c.endAsync()));
    },
  };
}
