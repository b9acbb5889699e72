-- The confirmation a report version came from (the id on its 确认提交 button): a confirmation
-- clicked again, or redelivered after a crash, finds its version instead of adding another.
ALTER TABLE report_submissions ADD COLUMN draft_id text UNIQUE;
