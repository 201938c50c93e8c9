-- Takes a BENCHMARK database back to "never screened", so that a first screening run can be measured again
-- (docs/performance.md). It deletes rows from append-only tables, which the platform forbids by triggers: it
-- turns triggers off for its own session (superuser only). Never run it on a platform's database.
--   psql postgres://…/gen10m -f bench/screening-reset.sql
SET session_replication_role = replica;
BEGIN;
DELETE FROM ledger_entries WHERE notice_id IS NOT NULL;
DELETE FROM reminders WHERE reason = 'notice';
DELETE FROM notices;
DELETE FROM notice_counters;
DELETE FROM findings;
DELETE FROM jobs WHERE kind = 'screen';
COMMIT;
VACUUM ANALYZE ledger_entries, reminders, notices, notice_counters, findings, jobs;
