-- Owner: console. One user model: the draw roster and the officers that regulatory reminders reach
-- (`inspectors`) follow the console's users. A user who is a district officer or has the inspector
-- duty has an `inspectors` row under their username (officers flagged `is_officer`), kept in step by
-- this trigger on every insert and update; a disabled user, or one who lost both, is inactive there.
-- Rows not named after a console user (rosters kept before) are left alone.
create function console_users_sync_inspector() returns trigger language plpgsql as $$
begin
  if new.inspector or new.role = 'district-officer' then
    insert into inspectors (id, name, district_id, phone, email, is_officer, active)
    values (new.username, new.display_name, new.district_id, new.phone, new.email,
            new.role = 'district-officer', not new.disabled)
    on conflict (id) do update
      set name = excluded.name, district_id = excluded.district_id, phone = excluded.phone,
          email = excluded.email, is_officer = excluded.is_officer, active = excluded.active;
  else
    update inspectors set active = false, is_officer = false where id = new.username;
  end if;
  return null;
end $$;

create trigger console_users_sync_inspector
  after insert or update of username, display_name, role, district_id, phone, email, inspector, disabled
  on console_users for each row execute function console_users_sync_inspector();

insert into inspectors (id, name, district_id, phone, email, is_officer, active)
select username, display_name, district_id, phone, email, role = 'district-officer', not disabled
  from console_users where inspector or role = 'district-officer'
on conflict (id) do nothing;
