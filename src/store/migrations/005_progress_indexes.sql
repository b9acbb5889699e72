-- Progress queries read one month of finished attempts across the whole hospital; without
-- this they scan every attempt ever made (study_completions is already keyed by month).
CREATE INDEX quiz_attempts_finished_idx ON quiz_attempts (finished_at, staff_id) WHERE state IN ('finished', 'expired');
