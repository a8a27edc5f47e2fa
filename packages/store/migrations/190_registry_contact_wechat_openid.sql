-- Owner: registry. An enterprise contact's openid for the bureau's WeChat official account (公众号), where
-- the alerter sends template messages when a policy entry names the `wechat` channel. Optional; a contact
-- still needs a phone or an email.
alter table contacts add column wechat_openid text check (wechat_openid ~ '^[A-Za-z0-9_-]{6,64}$');
comment on column contacts.wechat_openid is
  'openid of the contact for the bureau''s official account (WeChat template messages); null: not reached by WeChat';
