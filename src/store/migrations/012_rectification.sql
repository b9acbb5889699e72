-- 自查自纠 campaigns and the 问题清单 ledger with 销号 (issue 18).
-- A campaign is imported from a file (its parsed form is kept as spec); each repeat of it is a
-- round, opened once; each target department answers a round once; every problem found, by a
-- department itself or by an inspection, is a ledger row moved by guarded transitions.
CREATE TABLE rectification_campaigns (
  id text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9-]{0,59}$'),
  title text NOT NULL,
  spec jsonb NOT NULL,
  active boolean NOT NULL DEFAULT true,
  imported_by text NOT NULL,
  imported_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE rectification_rounds (
  campaign_id text NOT NULL REFERENCES rectification_campaigns(id),
  round integer NOT NULL CHECK (round >= 1),
  starts_on date NOT NULL,
  due_on date NOT NULL,
  -- Claimed once by whichever scheduler (or administrator) opens the round.
  opened_at timestamptz,
  PRIMARY KEY (campaign_id, round)
);

CREATE TABLE rectification_reports (
  campaign_id text NOT NULL,
  round integer NOT NULL,
  department_id integer NOT NULL REFERENCES departments(id),
  submitted_by text NOT NULL REFERENCES staff(staff_id),
  submitted_at timestamptz NOT NULL DEFAULT now(),
  -- [{item, found, description}] in the campaign's item order.
  answers jsonb NOT NULL,
  PRIMARY KEY (campaign_id, round, department_id),
  FOREIGN KEY (campaign_id, round) REFERENCES rectification_rounds(campaign_id, round)
);

CREATE TABLE rectification_problems (
  id bigserial PRIMARY KEY,
  -- NULL for an institutional item (duplicates from several departments merged into one).
  department_id integer REFERENCES departments(id),
  campaign_id text REFERENCES rectification_campaigns(id),
  round integer,
  item_id text,
  -- 自查从宽、被查从严: whether the department found it itself, an inspection did, or a merge made it.
  source text NOT NULL CHECK (source IN ('self', 'inspection', 'merged')),
  description text NOT NULL CHECK (char_length(description) BETWEEN 1 AND 500),
  owner_id text NOT NULL REFERENCES staff(staff_id),
  -- The functional department whose head may confirm the 销号 besides the discipline office.
  confirm_department_id integer REFERENCES departments(id),
  measure text CHECK (char_length(measure) <= 500),
  deadline date NOT NULL,
  evidence text CHECK (char_length(evidence) <= 1000),
  evidence_files jsonb NOT NULL DEFAULT '[]',
  state text NOT NULL CHECK (state IN ('pending', 'in_progress', 'applied', 'closed', 'merged')),
  merged_into bigint REFERENCES rectification_problems(id),
  -- Bumped by every change; card actions carry it so a stale card changes nothing.
  version integer NOT NULL DEFAULT 1,
  last_reason text,
  created_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  applied_at timestamptz,
  closed_at timestamptz,
  -- The overdue reminder and the escalation, each claimed once per deadline.
  reminded_at timestamptz,
  escalated_at timestamptz
);
CREATE INDEX rectification_problems_dept_idx ON rectification_problems (department_id, state);
CREATE INDEX rectification_problems_owner_idx ON rectification_problems (owner_id, state);
CREATE INDEX rectification_problems_open_idx ON rectification_problems (deadline) WHERE state IN ('pending', 'in_progress');
-- A department's report creates at most one row per checklist item and round.
CREATE UNIQUE INDEX rectification_problems_item_once ON rectification_problems (campaign_id, round, department_id, item_id) WHERE source = 'self';
