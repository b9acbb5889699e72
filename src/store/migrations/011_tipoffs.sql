-- 线索反映: tip-offs and the discipline office's case ledger. Who filed a tip-off is not here:
-- it lives encrypted in tipoff_reporters, so the case row, its history and every export can be
-- read without ever naming the reporter.
CREATE TABLE tipoffs (
  id bigserial PRIMARY KEY,
  -- bot: filed in chat by a staff member; the others are registered by the discipline office.
  source text NOT NULL CHECK (source IN ('bot', 'superior', 'phone', 'letter', 'email', 'visit')),
  -- Only bot-filed tip-offs can be real-name in the bot's sense (a reporter it can answer).
  real_name boolean NOT NULL,
  state text NOT NULL CHECK (state IN ('received', 'preliminary', 'verifying', 'disposing', 'replying', 'replied', 'closed', 'merged')),
  -- Bumped by every change; card actions carry it so a stale card changes nothing.
  version integer NOT NULL DEFAULT 1,
  occurred text NOT NULL CHECK (char_length(occurred) <= 100),
  place text NOT NULL CHECK (char_length(place) <= 100),
  department text NOT NULL CHECK (char_length(department) <= 100),
  persons text NOT NULL CHECK (char_length(persons) <= 200),
  matter text NOT NULL CHECK (char_length(matter) <= 2000),
  -- Who passed it on (上级转办: which body and its reference), for registered cases.
  source_detail text CHECK (char_length(source_detail) <= 200),
  attachments jsonb NOT NULL DEFAULT '[]',
  -- sha-256 of the 查询码: the code itself is shown once, to the reporter.
  query_code_hash text UNIQUE,
  handler_id text REFERENCES staff(staff_id),
  disposition text CHECK (disposition IN ('handled', 'transferred', 'dismissed')),
  reply text,
  replied_at timestamptz,
  merged_into bigint REFERENCES tipoffs(id),
  created_at timestamptz NOT NULL DEFAULT now(),
  -- When the current state began, the local day it is due, and whether its reminder / escalation went out.
  state_since timestamptz NOT NULL DEFAULT now(),
  due_on date,
  reminded_at timestamptz,
  escalated_at timestamptz,
  -- 实名 reports: the day the reporter must have had a reply by (the 100% feedback rule).
  feedback_due_on date,
  closed_at timestamptz
);
CREATE INDEX tipoffs_open_idx ON tipoffs (state, due_on) WHERE state NOT IN ('closed', 'merged');
CREATE INDEX tipoffs_created_idx ON tipoffs (created_at);

-- The reporter of a bot-filed tip-off, AES-256-GCM under a key from the environment; key_id
-- names the key so a rotated-out key can still open what it sealed.
CREATE TABLE tipoff_reporters (
  tipoff_id bigint PRIMARY KEY REFERENCES tipoffs(id),
  key_id text NOT NULL,
  iv bytea NOT NULL,
  tag bytea NOT NULL,
  sealed bytea NOT NULL
);

-- What a case is linked to: a declaration (SB-12) or a person on the roster.
CREATE TABLE tipoff_links (
  tipoff_id bigint NOT NULL REFERENCES tipoffs(id),
  kind text NOT NULL CHECK (kind IN ('declaration', 'staff')),
  ref text NOT NULL,
  PRIMARY KEY (tipoff_id, kind, ref)
);
