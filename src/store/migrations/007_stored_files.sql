-- Photos and files attached to declarations, kept here as evidence: the platforms' own download
-- codes expire, and a record that must stand up to inspection cannot depend on them.
CREATE TABLE stored_files (
  id bigserial PRIMARY KEY,
  name text NOT NULL,
  mime text NOT NULL,
  size integer NOT NULL CHECK (size >= 0),
  sha256 text NOT NULL,
  data bytea NOT NULL,
  uploaded_by text REFERENCES staff(staff_id),
  created_at timestamptz NOT NULL DEFAULT now()
);
