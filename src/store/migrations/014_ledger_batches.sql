-- The queue job that sends a ledger row together with others of its campaign in one platform
-- call (an identical text to up to 20 people, DingTalk batchSend); NULL for a row sent on its
-- own. Named after the batch's first row, set in the transaction that inserts the rows, so
-- recovery queues a pending row under the same job id again (scheduler/outbound.ts).
ALTER TABLE send_ledger ADD COLUMN batch text;
CREATE INDEX send_ledger_batch_idx ON send_ledger (batch) WHERE batch IS NOT NULL;
