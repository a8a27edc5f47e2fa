import { createHash } from 'node:crypto';
import { tc3Sign } from './sign.js';

// The worked example of Tencent Cloud's "Signature v3" documentation (CVM DescribeInstances);
// the documentation masks the key pair with asterisks and computes the example with those strings.
const doc = {
  secretId: 'AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******',
  secretKey: 'Gu5t9xGARNpq86cd98joQYCN3*******',
  service: 'cvm',
  host: 'cvm.tencentcloudapi.com',
  timestamp: 1551113065,
  payload: '{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], "Name": "instance-name"}]}',
};

describe('TC3-HMAC-SHA256', () => {
  it('reproduces every intermediate value of the documented example', () => {
    const s = tc3Sign(doc);
    expect(createHash('sha256').update(doc.payload).digest('hex')).toBe(
      '35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064',
    );
    expect(s.canonicalRequest).toBe(
      'POST\n/\n\ncontent-type:application/json; charset=utf-8\nhost:cvm.tencentcloudapi.com\n\ncontent-type;host\n35e9c5b0e3ae67532d3c9f17ead6c90222632e5b1ff7f6e89887f1398934f064',
    );
    expect(s.stringToSign).toBe(
      'TC3-HMAC-SHA256\n1551113065\n2019-02-25/cvm/tc3_request\n5ffe6a04c0664d6b969fab9a13bdab201d63ee709638e2749d62a09ca18d7031',
    );
    expect(s.signature).toBe('2230eefd229f582d8b1b891af7107b91597240707d778ab3738f756258d7652c');
    expect(s.authorization).toBe(
      'TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3*******/2019-02-25/cvm/tc3_request, SignedHeaders=content-type;host, Signature=2230eefd229f582d8b1b891af7107b91597240707d778ab3738f756258d7652c',
    );
  });

  it('changes with the key and the UTC date', () => {
    expect(tc3Sign({ ...doc, secretKey: 'x' }).signature).not.toBe(tc3Sign(doc).signature);
    expect(tc3Sign({ ...doc, timestamp: 1551139199 }).date).toBe('2019-02-25');
    expect(tc3Sign({ ...doc, timestamp: 1551139200 }).date).toBe('2019-02-26');
  });
});
