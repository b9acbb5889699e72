-- The question bank, quiz attempts and monthly exam results.

-- One row per question id; `version` points at its current content.
CREATE TABLE quiz_questions (
  id text PRIMARY KEY,
  version integer NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Every content a question ever had. Rows are never updated: an attempt refers to the exact
-- version it showed, so re-importing a question never rewrites a past attempt under it.
CREATE TABLE quiz_question_versions (
  question_id text NOT NULL REFERENCES quiz_questions(id),
  version integer NOT NULL,
  type text NOT NULL CHECK (type IN ('single', 'multiple', 'judge')),
  rule smallint CHECK (rule BETWEEN 1 AND 9),
  topic text NOT NULL,
  stem text NOT NULL,
  options jsonb NOT NULL,
  answer jsonb NOT NULL,
  explanation text NOT NULL,
  source text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (question_id, version)
);

-- Facts about the bank itself (e.g. that the shipped default bank was loaded once).
CREATE TABLE quiz_meta (
  key text PRIMARY KEY,
  value text NOT NULL,
  at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE quiz_attempts (
  id bigserial PRIMARY KEY,
  staff_id text NOT NULL REFERENCES staff(staff_id),
  -- The department at the time of the attempt, so results stay with it after transfers.
  department_id integer NOT NULL REFERENCES departments(id),
  exam_id text,
  state text NOT NULL CHECK (state IN ('active', 'finished', 'expired')),
  current_index integer NOT NULL DEFAULT 0,
  question_count integer NOT NULL CHECK (question_count > 0),
  pass_mark integer NOT NULL,
  started_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  finished_at timestamptz,
  correct_count integer,
  score integer CHECK (score BETWEEN 0 AND 100),
  passed boolean
);
-- One active attempt per person, enforced by the database even across processes.
CREATE UNIQUE INDEX quiz_attempts_one_active ON quiz_attempts (staff_id) WHERE state = 'active';
CREATE INDEX quiz_attempts_staff_idx ON quiz_attempts (staff_id, id DESC);
CREATE INDEX quiz_attempts_exam_idx ON quiz_attempts (exam_id, staff_id) WHERE exam_id IS NOT NULL;
CREATE INDEX quiz_attempts_expiry_idx ON quiz_attempts (expires_at) WHERE state = 'active';

CREATE TABLE quiz_attempt_items (
  attempt_id bigint NOT NULL REFERENCES quiz_attempts(id),
  idx integer NOT NULL,
  question_id text NOT NULL,
  question_version integer NOT NULL,
  -- option_order[shown position] = original option index: the shuffle, held server-side.
  option_order jsonb NOT NULL,
  -- Multiple choice: shown positions ticked so far, before the answer is submitted.
  pending jsonb NOT NULL DEFAULT '[]',
  -- Original option indexes chosen; null until answered.
  selected jsonb,
  correct boolean,
  answered_at timestamptz,
  PRIMARY KEY (attempt_id, idx),
  FOREIGN KEY (question_id, question_version) REFERENCES quiz_question_versions (question_id, version)
);

-- Per person and exam: what progress queries read (best score, attempts used, department).
CREATE TABLE quiz_exam_results (
  exam_id text NOT NULL,
  staff_id text NOT NULL REFERENCES staff(staff_id),
  department_id integer NOT NULL REFERENCES departments(id),
  attempts integer NOT NULL,
  best_score integer NOT NULL CHECK (best_score BETWEEN 0 AND 100),
  passed boolean NOT NULL,
  first_finished_at timestamptz NOT NULL,
  last_finished_at timestamptz NOT NULL,
  PRIMARY KEY (exam_id, staff_id)
);
CREATE INDEX quiz_exam_results_dept_idx ON quiz_exam_results (exam_id, department_id);
