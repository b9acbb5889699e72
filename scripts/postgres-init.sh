#!/bin/sh
# Run by the postgres image on its first start (docker-entrypoint-initdb.d): creates the owner
# and bot roles of docs/operations.md "数据库角色" with the passwords from the environment.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v owner_password="$QINGLIAN_OWNER_PASSWORD" -v bot_password="$QINGLIAN_BOT_PASSWORD" \
  -f /qinglian/postgres-roles.sql
