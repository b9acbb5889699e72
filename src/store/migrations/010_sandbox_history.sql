-- The sandbox web chat's conversation, so that a restart keeps what people have been trying
-- there for days: the bot's cards (approval cards included, as last updated), the user's own
-- messages and the files behind download links. A test surface: the adapter keeps the last
-- 200 messages of each inbox and drops the rest, with the files only they pointed to.
CREATE TABLE sandbox_messages (
  seq bigserial PRIMARY KEY,
  id text NOT NULL UNIQUE,
  -- A staff id for a one-to-one chat, `group:<chat>` for a group.
  inbox text NOT NULL,
  sender text NOT NULL CHECK (sender IN ('bot', 'user')),
  -- {kind, text?, card?, fileUrl?}: the message as the page reads it, HTML rendered on read.
  body jsonb NOT NULL,
  -- A retried send (outbound queue) shows once, across restarts too.
  idempotency_key text UNIQUE,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sandbox_messages_inbox ON sandbox_messages (inbox, seq);

-- Exports, chart images and uploads, addressed by an unguessable id (the link is the key), not
-- by stored_files' sequential ids, which would let a link be guessed into declaration evidence.
CREATE TABLE sandbox_files (
  id text PRIMARY KEY,
  -- The message that shows it (download link, upload); null for a card image.
  message_id text,
  inbox text,
  name text NOT NULL,
  mime text NOT NULL,
  data bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sandbox_files_inbox ON sandbox_files (inbox);
