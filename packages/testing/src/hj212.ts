import { dataCp, encodePacket } from '@offsite/hj212';

/** An hourly HJ 212-2017 data upload (CN 2061, ST 31, PW 123456) for `mn`: SO₂ (a21026) Avg `avg`, Max `avg + 1`, flag N. */
export function hj212HourlyUpload(mn: string, hour = '20240301020000', avg = 12.5): Buffer {
  return encodePacket({
    qn: `${hour}000`,
    st: '31',
    cn: '2061',
    pw: '123456',
    mn,
    flag: 5,
    cp: dataCp(
      hour,
      [
        { code: 'a21026', stat: 'Avg', value: avg },
        { code: 'a21026', stat: 'Max', value: avg + 1 },
      ],
      { a21026: 'N' },
    ),
  });
}
