import { bilingualMessage } from './errors.js';

describe('bilingualMessage', () => {
  it('puts the Chinese sentence of the code before an English-only message', () => {
    expect(bilingualMessage('NOT_FOUND', 'district dist-lanxi not found')).toBe(
      '未找到，或不在您的管辖范围内 / district dist-lanxi not found',
    );
    expect(bilingualMessage('SOMETHING_NEW', 'it failed')).toBe('请求未能完成 / it failed');
  });

  it('keeps a message that is already Chinese / English', () => {
    const both = '企业不存在 / enterprise not found';
    expect(bilingualMessage('NOT_FOUND', both)).toBe(both);
  });
});
