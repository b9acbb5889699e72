-- 红包/回扣 主动上缴登记: declarations, their approval cards and the gapless receipt counter.
-- Content is immutable once submitted; an amendment after a rejection is a new row pointing
-- at the rejected one (previous_id), so every version stays on record.
CREATE TABLE declarations (
  id bigserial PRIMARY KEY,
  declarant_id text NOT NULL REFERENCES staff(staff_id),
  -- The department when it was declared: its head approves even if the declarant moves later.
  department_id integer NOT NULL REFERENCES departments(id),
  state text NOT NULL CHECK (state IN ('draft', 'pending_dept', 'pending_discipline', 'pending_finance', 'registered', 'rejected', 'cancelled')),
  -- Bumped by every change; card actions carry it so a stale card changes nothing.
  version integer NOT NULL DEFAULT 1,
  revision integer NOT NULL DEFAULT 1,
  previous_id bigint REFERENCES declarations(id),
  kind text NOT NULL CHECK (kind IN ('cash', 'gift', 'card', 'securities', 'hospitality', 'other')),
  amount numeric(14, 2) NOT NULL CHECK (amount > 0),
  received_on date NOT NULL,
  giver text NOT NULL CHECK (giver IN ('patient', 'family', 'industry', 'other')),
  handling text NOT NULL CHECK (handling IN ('refused', 'returned', 'to_finance', 'to_patient_account', 'other')),
  description text NOT NULL DEFAULT '' CHECK (char_length(description) <= 500),
  attachments jsonb NOT NULL DEFAULT '[]',
  receipt_no text UNIQUE,
  last_reason text,
  created_at timestamptz NOT NULL DEFAULT now(),
  submitted_at timestamptz,
  -- When the current approval step began, and whether its reminder / escalation went out.
  step_started_at timestamptz,
  reminded_at timestamptz,
  escalated_at timestamptz,
  registered_at timestamptz
);
CREATE INDEX declarations_declarant_idx ON declarations (declarant_id, id);
CREATE INDEX declarations_pending_idx ON declarations (state, step_started_at) WHERE state LIKE 'pending_%';
-- One live amendment per rejected declaration (a cancelled amendment draft does not count).
CREATE UNIQUE INDEX declarations_one_amendment ON declarations (previous_id) WHERE previous_id IS NOT NULL AND state <> 'cancelled';

-- Receipt numbers HB-YYYY-NNNNNN: a row per year, incremented under its row lock inside the
-- registering transaction, so a rolled-back registration leaves no gap (a sequence would).
CREATE TABLE declaration_receipt_counters (
  year integer PRIMARY KEY,
  last_number integer NOT NULL
);

-- Every approval card sent, so that when one approver decides every other card of that step
-- can be updated in place to show who decided.
CREATE TABLE declaration_cards (
  id bigserial PRIMARY KEY,
  declaration_id bigint NOT NULL REFERENCES declarations(id),
  state text NOT NULL,
  version integer NOT NULL,
  staff_id text NOT NULL REFERENCES staff(staff_id),
  platform text NOT NULL,
  message_id text NOT NULL,
  sent_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (declaration_id, version, staff_id)
);
CREATE INDEX declaration_cards_staff_idx ON declaration_cards (staff_id, declaration_id);
