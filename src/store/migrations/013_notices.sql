-- 通报 (notices) from the discipline office and their read receipts. A notice is composed as a
-- draft, published once (its audience fixed at that moment as one recipient row per person),
-- pushed once per person through the campaign ledger, and its non-readers reminded once.
CREATE TABLE notices (
  id bigserial PRIMARY KEY,
  state text NOT NULL DEFAULT 'draft' CHECK (state IN ('draft', 'published', 'discarded')),
  -- 'warning': 典型案例警示教育, which names the rule of the nine it concerns.
  kind text NOT NULL CHECK (kind IN ('general', 'warning')),
  rule integer CHECK (rule BETWEEN 1 AND 9),
  title text NOT NULL,
  body text NOT NULL,
  file_id bigint REFERENCES stored_files(id),
  -- {departments?: string[], roles?: string[]}: both empty means the whole hospital.
  audience jsonb NOT NULL DEFAULT '{}',
  created_by text NOT NULL REFERENCES staff(staff_id),
  created_at timestamptz NOT NULL DEFAULT now(),
  published_at timestamptz,
  -- The delay in force when it was published, so a later settings change does not move it.
  remind_after_hours integer,
  -- Set once every recipient's push row is in the ledger (a crash before that is repaired by the sweep).
  pushed_at timestamptz,
  -- The reminder's once-only claim: a lease taken by one sweep, then the mark that it is done.
  remind_claimed_at timestamptz,
  reminded_at timestamptz,
  CHECK ((kind = 'warning') = (rule IS NOT NULL))
);
CREATE INDEX notices_published_idx ON notices (published_at DESC) WHERE state = 'published';

CREATE TABLE notice_recipients (
  notice_id bigint NOT NULL REFERENCES notices(id),
  staff_id text NOT NULL REFERENCES staff(staff_id),
  -- The department when published: read rates stay as they were if someone moves later.
  department_id integer NOT NULL REFERENCES departments(id),
  read_at timestamptz,
  read_via text CHECK (read_via IN ('card', 'message')),
  PRIMARY KEY (notice_id, staff_id)
);
CREATE INDEX notice_recipients_staff_idx ON notice_recipients (staff_id, notice_id DESC);
CREATE INDEX notice_recipients_unread_idx ON notice_recipients (notice_id) WHERE read_at IS NULL;
