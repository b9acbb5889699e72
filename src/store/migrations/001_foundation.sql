-- Departments, staff, roles and platform identities: the roster.
CREATE TABLE departments (
  id serial PRIMARY KEY,
  name text NOT NULL UNIQUE,
  active boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE staff (
  staff_id text PRIMARY KEY,
  name text NOT NULL,
  department_id integer NOT NULL REFERENCES departments(id),
  active boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX staff_department_idx ON staff (department_id) WHERE active;

CREATE TABLE staff_roles (
  staff_id text NOT NULL REFERENCES staff(staff_id) ON DELETE CASCADE,
  role text NOT NULL CHECK (role IN ('staff', 'dept_head', 'report_owner', 'discipline', 'finance', 'leader', 'admin')),
  PRIMARY KEY (staff_id, role)
);
CREATE INDEX staff_roles_role_idx ON staff_roles (role);

CREATE TABLE platform_identities (
  platform text NOT NULL CHECK (platform IN ('dingtalk', 'feishu')),
  platform_user_id text NOT NULL,
  staff_id text NOT NULL REFERENCES staff(staff_id) ON DELETE CASCADE,
  PRIMARY KEY (platform, platform_user_id),
  UNIQUE (platform, staff_id)
);

-- The audit log is append-only: the database itself refuses UPDATE, DELETE and TRUNCATE,
-- so no code path (or person with the bot's credentials) can rewrite history quietly.
CREATE TABLE audit_log (
  id bigserial PRIMARY KEY,
  at timestamptz NOT NULL DEFAULT now(),
  actor text,
  action text NOT NULL,
  entity_type text,
  entity_id text,
  from_state text,
  to_state text,
  reason text,
  detail jsonb
);
CREATE INDEX audit_log_entity_idx ON audit_log (entity_type, entity_id, id);

CREATE FUNCTION audit_log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only: % is not allowed', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change();
