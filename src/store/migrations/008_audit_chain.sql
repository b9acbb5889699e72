-- The append-only triggers stop the bot's own role, but whoever owns the table (or is
-- superuser) can disable them and rewrite history. A hash chain makes that detectable:
-- every row stores the hash of the row before it and of its own content, so changing or
-- removing any past row breaks every hash after it, and a head copied elsewhere
-- (`npm run cli -- audit head`) proves the past was not rewritten wholesale.
--
-- The canonical text hashed is rebuilt in TypeScript by `audit verify`
-- (src/store/audit-chain.ts), which must stay byte for byte the same as audit_log_hash:
--   'qinglian-audit-v1' then, for each of prev_hash, seq, id, at, actor, action,
--   entity_type, entity_id, from_state, to_state, reason, detail, a '|' followed by
--   '-' for NULL or <UTF-8 byte length>:<text>.
-- at is written as UTC with microseconds (YYYY-MM-DDTHH:MM:SS.ffffffZ) and detail as
-- jsonb's own text form, so neither session settings nor key order can change a hash.

ALTER TABLE audit_log ADD COLUMN seq bigint, ADD COLUMN prev_hash text, ADD COLUMN hash text;

CREATE FUNCTION audit_log_hash(prev text, seq bigint, r audit_log) RETURNS text LANGUAGE plpgsql STABLE AS $$
DECLARE
  canon text := 'qinglian-audit-v1';
  f text;
BEGIN
  FOREACH f IN ARRAY ARRAY[
    prev, seq::text, r.id::text, to_char(r.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
    r.actor, r.action, r.entity_type, r.entity_id, r.from_state, r.to_state, r.reason, r.detail::text
  ] LOOP
    canon := canon || '|' || CASE WHEN f IS NULL THEN '-' ELSE octet_length(convert_to(f, 'UTF8'))::text || ':' || f END;
  END LOOP;
  RETURN encode(sha256(convert_to(canon, 'UTF8')), 'hex');
END;
$$;

-- Rows written before the chain existed are chained in id order, the order they were made.
ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update;
DO $$
DECLARE
  r audit_log;
  prev text := repeat('0', 64);
  n bigint := 0;
BEGIN
  FOR r IN SELECT * FROM audit_log ORDER BY id LOOP
    n := n + 1;
    UPDATE audit_log SET seq = n, prev_hash = prev, hash = audit_log_hash(prev, n, r) WHERE id = r.id;
    prev := audit_log_hash(prev, n, r);
  END LOOP;
END;
$$;
ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update;

ALTER TABLE audit_log ALTER COLUMN seq SET NOT NULL, ALTER COLUMN prev_hash SET NOT NULL, ALTER COLUMN hash SET NOT NULL;
CREATE UNIQUE INDEX audit_log_seq_idx ON audit_log (seq);

-- Two transactions appending at once (two discipline members deciding together) must not
-- both link to the same head: a transaction-scoped advisory lock per schema serialises the
-- appends, held until commit so the next one sees this row. The id is taken before the lock,
-- so chain order (seq) can differ from id order; seq is the order that counts.
-- A row that arrives with a hash (a `data import` of a backup) must carry exactly the hash
-- the chain gives it here, so a tampered backup cannot be laundered into a fresh chain.
CREATE FUNCTION audit_log_chain() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  head_seq bigint;
  head_hash text;
  supplied text := NEW.hash;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('qinglian.audit.' || TG_TABLE_SCHEMA));
  EXECUTE format('SELECT seq, hash FROM %I.%I ORDER BY seq DESC LIMIT 1', TG_TABLE_SCHEMA, TG_TABLE_NAME) INTO head_seq, head_hash;
  NEW.seq := COALESCE(head_seq, 0) + 1;
  NEW.prev_hash := COALESCE(head_hash, repeat('0', 64));
  NEW.hash := audit_log_hash(NEW.prev_hash, NEW.seq, NEW);
  IF supplied IS NOT NULL AND supplied <> NEW.hash THEN
    RAISE EXCEPTION 'audit_log row % does not continue the hash chain (expected seq %); the copy was altered', NEW.id, NEW.seq
      USING ERRCODE = 'data_exception';
  END IF;
  RETURN NEW;
END;
$$;

CREATE TRIGGER audit_log_chain BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_chain();
