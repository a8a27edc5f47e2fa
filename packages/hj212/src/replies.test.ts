import { loadFixture } from '../test/fixtures.js';
import { decideReply } from './ack.js';
import { decodePacket } from './decode.js';
import { encodePacketLine } from './encoder.js';
import {
  dataAck,
  executionResult,
  ExeRtn,
  getDeviceTime,
  getMinuteInterval,
  getRealtimeInterval,
  heartbeat,
  historyRequest,
  notificationAck,
  QnRtn,
  requestAck,
  setDeviceTime,
  setMinuteInterval,
  setPassword,
  setRealtimeInterval,
  setTimeoutAndRetries,
} from './replies.js';

const standard = loadFixture('standard-examples.txt');
const field = loadFixture('field-captures.txt');
const upload = decodePacket(standard[1]!.line);
if (!upload.ok) throw new Error('fixture must decode');
const device = { st: '32', pw: '100000', mn: '010000A8900016F000169DC0' };
const qn = '20160801085857223';

describe('replies', () => {
  it('reproduces the fixture 9014 byte for byte', () => {
    expect(encodePacketLine(dataAck(upload.packet))).toBe(standard[2]!.line);
  });

  it('reproduces the fixture 9011 and 9012', () => {
    const to = { qn, pw: '123456', mn: device.mn, flag: 5 };
    expect(encodePacketLine(requestAck(to, QnRtn.Ready))).toBe(standard[3]!.line);
    expect(encodePacketLine(executionResult(to, ExeRtn.Success))).toBe(standard[4]!.line);
  });

  it('builds 9013 and keeps the 2025 version in replies', () => {
    const line = encodePacketLine(notificationAck({ qn, pw: 'p', mn: 'm', flag: 0b1001 }));
    expect(line).toMatch(/^##\d{4}QN=20160801085857223;ST=91;CN=9013;PW=p;MN=m;Flag=8;CP=&&&&[0-9A-F]{4}$/);
  });

  it('uses the typed QnRtn codes', () => {
    expect(Object.values(QnRtn)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 100]);
  });

  it('reproduces the Appendix A request with setRealtimeInterval', () => {
    expect(encodePacketLine(setRealtimeInterval(device, qn, 30))).toBe(standard[0]!.line);
  });

  it('builds the centre requests', () => {
    const cp = (p: { cp?: unknown }): string =>
      encodePacketLine(p as never)
        .split('CP=&&')[1]!
        .slice(0, -6);
    const at = new Date('2020-09-23T03:17:07Z');
    expect(setTimeoutAndRetries(device, qn, 5, 3)).toMatchObject({ cn: '1000', flag: 5 });
    expect(cp(setTimeoutAndRetries(device, qn, 5, 3))).toBe('OverTime=5;ReCount=3');
    expect(cp(getDeviceTime(device, qn, 'w01018'))).toBe('PolId=w01018');
    expect(cp(setDeviceTime(device, qn, at))).toBe('SystemTime=20200923111707');
    expect(getRealtimeInterval(device, qn).cn).toBe('1061');
    expect(getMinuteInterval(device, qn).cn).toBe('1063');
    expect(cp(setMinuteInterval(device, qn, 10))).toBe('MinInterval=10');
    expect(cp(setPassword(device, qn, 'secret'))).toBe('NewPW=secret');
    const h = historyRequest(
      device,
      qn,
      '2061',
      new Date('2020-09-22T16:00:00Z'),
      new Date('2020-09-23T16:00:00Z'),
    );
    expect(h.cn).toBe('2061');
    expect(cp(h)).toBe('BeginTime=20200923000000;EndTime=20200924000000');
    const hb = heartbeat({ ...device, version: '2025' }, qn, at);
    expect(hb).toMatchObject({ cn: '9015', flag: 8 });
    const decoded = decodePacket(encodePacketLine(hb), { policy: 'strict' });
    expect(decoded.ok && decoded.packet.version).toBe('2025');
  });
});

describe('decideReply', () => {
  const reply = (line: string, policy: 'strict' | 'tolerant' = 'tolerant'): string | null => {
    const d = decideReply(decodePacket(line, { policy }));
    return d.reply ? encodePacketLine(d.reply) : null;
  };

  it('answers a data upload asking for it with 9014', () => {
    expect(reply(standard[1]!.line)).toBe(standard[2]!.line);
  });

  it('answers requests with 9011 QnRtn=1', () => {
    expect(reply(standard[0]!.line)).toMatch(/CN=9011;PW=100000;.*CP=&&QnRtn=1&&/);
    const history = encodePacketLine(
      historyRequest(device, qn, '2051', new Date('2020-01-01T00:00:00Z'), new Date('2020-01-01T01:00:00Z')),
    );
    expect(reply(history)).toMatch(/CN=9011;.*QnRtn=1&&/);
  });

  it('does not answer replies nor uploads without Flag bit A', () => {
    expect(reply(standard[2]!.line)).toBeNull();
    expect(reply(field[0]!.line)).toBeNull();
  });

  it('answers a CRC error with QnRtn=9 and a strictly rejected MN with QnRtn=4', () => {
    expect(reply(standard[0]!.line.replace(/1C80$/, '0000'))).toMatch(
      /QN=20160801085857223;ST=91;CN=9011;.*QnRtn=9&&/,
    );
    expect(reply(field[1]!.line, 'strict')).toMatch(/QN=20190925181031464;ST=91;CN=9011;.*QnRtn=4&&/);
  });

  it('answers an unknown CN with QnRtn=8 and gives no reply to unreadable frames', () => {
    const unknown = encodePacketLine({ qn, st: '32', cn: '4242', pw: '1', mn: device.mn, flag: 5 });
    expect(reply(unknown)).toMatch(/QnRtn=8&&/);
    expect(decideReply(decodePacket('garbage'))).toMatchObject({ reply: null });
  });

  it('answers a notification with 9013', () => {
    const note = encodePacketLine({ qn, st: '32', cn: '1013', pw: '1', mn: device.mn, flag: 5 });
    expect(reply(note)).toMatch(/CN=9013;.*CP=&&&&/);
  });
});
