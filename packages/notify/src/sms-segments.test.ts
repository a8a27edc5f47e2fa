import { fitSms, smsLength, smsSegments } from './sms-segments.js';

describe('SMS segments', () => {
  it('counts 70 Chinese characters as one message and 71 as two parts of 67', () => {
    expect(smsSegments('测'.repeat(70))).toBe(1);
    expect(smsSegments('测'.repeat(71))).toBe(2);
    expect(smsSegments('测'.repeat(134))).toBe(2);
    expect(smsSegments('测'.repeat(135))).toBe(3);
    expect(smsSegments('')).toBe(0);
  });

  it('counts Latin letters, digits and a surrogate pair as one character each', () => {
    expect(smsLength('AB12')).toBe(4);
    expect(smsLength('𠮷')).toBe(1);
    expect(smsSegments('a'.repeat(70))).toBe(1);
    expect(smsSegments('a'.repeat(71))).toBe(2);
  });

  it('cuts to fit the sign name into the budget and marks the cut', () => {
    const long = '排'.repeat(200);
    const one = fitSms(long, 1, '青澜生态');
    expect(smsLength(one) + 6).toBe(70);
    expect(one.endsWith('…')).toBe(true);
    const two = fitSms(long, 2, '青澜生态');
    expect(smsSegments(`【青澜生态】${two}`)).toBe(2);
    expect(fitSms('短文本', 1, '青澜生态')).toBe('短文本');
  });
});
