import { Value } from '@sinclair/typebox/value';
import { AlerterEnv, parseWechatTemplates } from './config.js';

test('WeChat templates: our key → template id and its data keys filled from our parameters', () => {
  const list = ['reminder=Tpl_1-a:thing1=enterprise|thing2=rule|time3=time', 'regulation=T2:thing1=text'];
  expect(Value.Check(AlerterEnv.properties.OFFSITE_WECHAT_TEMPLATES, list)).toBe(true);
  expect(parseWechatTemplates(list)).toEqual({
    reminder: { id: 'Tpl_1-a', fields: { thing1: 'enterprise', thing2: 'rule', time3: 'time' } },
    regulation: { id: 'T2', fields: { thing1: 'text' } },
  });
  // A template without fields, or a field without a parameter, is refused at start.
  expect(Value.Check(AlerterEnv.properties.OFFSITE_WECHAT_TEMPLATES, ['reminder=T1'])).toBe(false);
  expect(Value.Check(AlerterEnv.properties.OFFSITE_WECHAT_TEMPLATES, ['reminder=T1:thing1'])).toBe(false);
});
