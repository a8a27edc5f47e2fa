import { maskWechatRequest } from './wechat-callback.js';

const OPENID = 'oAbCdEfGhIjKlMnOpQrStUvWxYz0';

test('a kept WeChat request holds the sender’s openid only masked, in the body and the query', () => {
  const url = `/wechat/callback?signature=ab&timestamp=1&nonce=2&openid=${OPENID}&encrypt_type=raw`;
  const body =
    `<xml><ToUserName><![CDATA[gh_offsite]]></ToUserName><FromUserName><![CDATA[${OPENID}]]></FromUserName>` +
    `<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[河道排污]]></Content></xml>`;
  const kept = maskWechatRequest(url, body);
  expect(kept).not.toContain(OPENID);
  expect(kept).toContain('openid=oAb****xYz0&');
  expect(kept).toContain('<FromUserName><![CDATA[oAb****xYz0]]></FromUserName>');
  // The account, the message and the other parameters stay readable.
  expect(kept).toContain('<ToUserName><![CDATA[gh_offsite]]></ToUserName>');
  expect(kept).toContain('河道排污');
  expect(kept).toContain('signature=ab&timestamp=1&nonce=2&openid=');
  expect(kept).toContain('&encrypt_type=raw');
});

test('plain (non-CDATA) senders, several pushes and an empty sender are masked or left alone', () => {
  const body = `<xml><FromUserName>${OPENID}</FromUserName></xml><xml><FromUserName> <![CDATA[${OPENID}]]> </FromUserName><FromUserName></FromUserName></xml>`;
  const kept = maskWechatRequest('/wechat/callback', body);
  expect(kept).not.toContain(OPENID);
  expect(kept.match(/oAb\*\*\*\*xYz0/g)).toHaveLength(2);
  expect(kept).toContain('<FromUserName></FromUserName>');
});
