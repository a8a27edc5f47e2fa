-- Owner: services/console (migrations 020-029, 066). The console's live updates listen to the alerter's
-- channel `alerter_cases_changed` (migration 065) for changes of cases, notifications and
-- acknowledgements, and to its own `console_cases_changed` (payload: the deviation id; migration 021's
-- trigger on review_states) for review states. The functions of the triggers the console had on the
-- alerter's tables go with them.
drop function console_notification_notify();
drop function console_ack_notify();
