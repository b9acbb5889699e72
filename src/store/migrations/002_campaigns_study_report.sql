-- Campaigns and the send ledger: every push is one campaign, every recipient one ledger row
-- keyed campaign:recipient. The key is also the BullMQ job id and the platform's idempotency
-- key, so a retried or replayed send is recognised everywhere it could be repeated.
CREATE TABLE campaigns (
  id bigserial PRIMARY KEY,
  key text NOT NULL UNIQUE,
  kind text NOT NULL,
  title text NOT NULL,
  created_by text,
  created_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz,
  failures_reported_at timestamptz,
  meta jsonb NOT NULL DEFAULT '{}'
);

CREATE TABLE send_ledger (
  key text PRIMARY KEY,
  campaign_id bigint NOT NULL REFERENCES campaigns(id),
  staff_id text NOT NULL,
  -- NULL when the staff member had no account on a running platform (status 'unreachable').
  platform text,
  target text,
  content jsonb NOT NULL,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed', 'unreachable')),
  attempts integer NOT NULL DEFAULT 0,
  message_id text,
  error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  sent_at timestamptz,
  UNIQUE (campaign_id, staff_id)
);
CREATE INDEX send_ledger_pending_idx ON send_ledger (campaign_id, created_at) WHERE status = 'pending';
CREATE INDEX send_ledger_problem_idx ON send_ledger (campaign_id) WHERE status IN ('failed', 'unreachable');

-- Study plans imported with `cli study import` (they win over qinglian.yaml and the shipped plan).
CREATE TABLE study_plans (
  month text PRIMARY KEY,
  plan jsonb NOT NULL,
  imported_by text,
  imported_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE study_completions (
  month text NOT NULL,
  staff_id text NOT NULL REFERENCES staff(staff_id),
  completed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (month, staff_id)
);

-- Monthly reports: one row per version; a resubmission before the deadline adds a version and
-- moves `current`, so the earlier text stays on record.
CREATE TABLE report_submissions (
  id bigserial PRIMARY KEY,
  month text NOT NULL,
  department_id integer NOT NULL REFERENCES departments(id),
  version integer NOT NULL,
  current boolean NOT NULL DEFAULT true,
  summary text NOT NULL,
  figures jsonb NOT NULL DEFAULT '{}',
  attachment text,
  submitted_by text NOT NULL REFERENCES staff(staff_id),
  submitted_at timestamptz NOT NULL DEFAULT now(),
  late boolean NOT NULL,
  UNIQUE (month, department_id, version)
);
CREATE UNIQUE INDEX report_submissions_current_idx ON report_submissions (month, department_id) WHERE current;
