-- Database roles for 清廉助手 (see docs/operations.md "数据库角色"). Run once per database as a
-- superuser, with psql variables owner_password and bot_password:
--   psql -U postgres -d qinglian -v owner_password=… -v bot_password=… -f scripts/postgres-roles.sql
-- Safe to run again: existing roles keep their passwords, ownership is only moved when needed.
--
-- qinglian_owner owns the tables and runs the migrations (DATABASE_OWNER_URL); qinglian_bot is
-- what the bot connects as (DATABASE_URL). At start-up the owner grants the bot its rights,
-- on audit_log only SELECT and INSERT, so the bot's credentials cannot rewrite the audit log.
\set ON_ERROR_STOP on

SELECT format('CREATE ROLE qinglian_owner LOGIN NOSUPERUSER PASSWORD %L', :'owner_password')
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'qinglian_owner') \gexec
SELECT format('CREATE ROLE qinglian_bot LOGIN NOSUPERUSER PASSWORD %L', :'bot_password')
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'qinglian_bot') \gexec

SELECT format('GRANT CONNECT ON DATABASE %I TO qinglian_owner, qinglian_bot', current_database()) \gexec

-- The owner creates in public; nobody else may (PostgreSQL before 15 let every role create there).
ALTER SCHEMA public OWNER TO qinglian_owner;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;

-- An existing installation made its tables as the old superuser: hand them to the owner, so
-- migrations keep working and the bot no longer owns what it must not alter.
DO $$
DECLARE o record;
BEGIN
  FOR o IN
    SELECT format('ALTER %s public.%I OWNER TO qinglian_owner', CASE c.relkind WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END, c.relname) AS stmt
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'S') AND pg_get_userbyid(c.relowner) <> 'qinglian_owner'
      -- Sequences owned by a table column follow their table.
      AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('a', 'i')))
    UNION ALL
    SELECT format('ALTER FUNCTION public.%I(%s) OWNER TO qinglian_owner', p.proname, pg_get_function_identity_arguments(p.oid))
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname = 'public' AND pg_get_userbyid(p.proowner) <> 'qinglian_owner'
  LOOP
    EXECUTE o.stmt;
  END LOOP;
END;
$$;
