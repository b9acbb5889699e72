-- A question can be retired (an outdated rule, a confusing stem): it is no longer drawn, while
-- every attempt that showed it keeps its version. Restoring clears the mark.
ALTER TABLE quiz_questions ADD COLUMN retired_at timestamptz;
