-- Sharding by user id (README, "Sharding"). Every physical shard runs the same schema; the
-- directory tables (user_directory, user_public_ids, shard_map) are used on physical shard 0 only.

-- Ids: | 41 bits ms since 2026-01-01 | 13 bits logical shard | 10 bits sequence | (app/src/sharding/ids.ts).
CREATE SEQUENCE shard_id_sequence;

CREATE FUNCTION make_shard_id(logical_shard integer) RETURNS bigint
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  ms bigint := floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint - 1767225600000;
BEGIN
  IF logical_shard IS NULL OR logical_shard < 0 OR logical_shard > 8191 THEN
    RAISE EXCEPTION 'logical shard % is outside 0-8191', logical_shard;
  END IF;
  RETURN (ms << 23) | (logical_shard::bigint << 10) | (nextval('shard_id_sequence') % 1024);
END $$;

CREATE FUNCTION logical_shard_of(id bigint) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT ((id >> 10) & 8191)::integer $$;

-- New users go round-robin over the logical shards: every 8192 sign-ups visit each logical shard
-- once (an even spread, whatever the traffic). The stride, odd and near 8192 / golden ratio, makes
-- that a permutation in which consecutive sign-ups land far apart, so on different physical shards
-- under a map of contiguous ranges.
CREATE SEQUENCE new_user_shard_sequence;

CREATE FUNCTION next_user_id() RETURNS bigint
LANGUAGE sql VOLATILE AS $$
  SELECT make_shard_id(((nextval('new_user_shard_sequence') * 5063) % 8192)::integer)
$$;

-- Users keep the ids they had; new ones come from the directory's next_user_id().
ALTER TABLE users ALTER COLUMN id DROP IDENTITY;

-- The email directory: one row per email across every shard, so sign-in finds the account without
-- asking every shard, and the primary key makes an email unique under concurrent sign-ups. A row
-- counts only while the user's shard holds that user with that email (a reservation whose sign-up
-- never finished is reclaimed after a grace period: app/src/sharding/directory.ts).
CREATE TABLE user_directory (
  email text PRIMARY KEY,
  user_id bigint NOT NULL,
  reserved_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX user_directory_user_id ON user_directory (user_id);
INSERT INTO user_directory (email, user_id, reserved_at) SELECT email, id, created_at FROM users;
-- Public ids (003_public_user_ids.sql) in the directory too, so a request by public id finds the
-- user's internal id, and with it the shard, without asking every shard. One row per user (an
-- email change briefly holds two emails, never two public ids), written by the same reservation
-- as the email and dropped with the user's last email (app/src/sharding/accounts.ts). The primary
-- key keeps public ids unique across every shard; each shard's users_public_id_unique stays.
CREATE TABLE user_public_ids (
  public_id uuid PRIMARY KEY,
  user_id bigint NOT NULL UNIQUE
);
INSERT INTO user_public_ids (public_id, user_id) SELECT public_id, id FROM users;
-- The directory is now what keeps emails unique; a per-shard constraint could only get in the way
-- of a move (a user's old address still on the target for a moment).
ALTER TABLE users DROP CONSTRAINT users_email_unique;

-- The live shard map, seeded from configuration on first start; `version` tells pollers it moved.
CREATE TABLE shard_map (
  logical_shard integer PRIMARY KEY CHECK (logical_shard BETWEEN 0 AND 8191),
  physical_shard integer NOT NULL CHECK (physical_shard >= 0)
);
CREATE TABLE shard_map_version (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  version bigint NOT NULL
);

-- Jobs belong to the user they changed, so they live (and move) with the user's shard.
ALTER TABLE jobs ADD COLUMN user_id bigint NOT NULL DEFAULT 0;
ALTER TABLE jobs ALTER COLUMN user_id DROP DEFAULT;

-- Resharding (app/src/sharding/reshard.ts). shard_state marks the logical shards of this physical
-- shard that are not simply "here": capturing (being copied away; changes are logged), moved (gone;
-- writes are refused with SQLSTATE ZS001 so the app re-reads the map) or incoming (being copied in).
CREATE TABLE shard_state (
  logical_shard integer PRIMARY KEY,
  state text NOT NULL CHECK (state IN ('capturing', 'moved', 'incoming'))
);
-- The reshard command's moves and their progress, on the directory database: a rerun after a crash
-- resumes the unfinished move from its last step.
CREATE TABLE reshard_moves (
  id bigserial PRIMARY KEY,
  logical_shards integer[] NOT NULL,
  source integer NOT NULL,
  target integer NOT NULL,
  step text NOT NULL CHECK (step IN ('capture', 'copy', 'catchup', 'flipped', 'done')),
  copy_cursor jsonb,
  change_seq bigint NOT NULL DEFAULT 0,
  rows_copied bigint NOT NULL DEFAULT 0,
  pause_ms double precision,
  started_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
-- Row lookups by logical shard: the copy, the cleanup and the hot-shard report.
CREATE INDEX users_logical_shard ON users (logical_shard_of(id), id);
CREATE INDEX jobs_logical_shard ON jobs (logical_shard_of(user_id), id);

CREATE TABLE shard_changes (
  seq bigserial PRIMARY KEY,
  logical_shard integer NOT NULL,
  table_name text NOT NULL,
  row_key text NOT NULL
);

-- Every write to a user-owned row passes this guard. It holds a shared advisory lock on the row's
-- logical shard until commit, so the reshard command's exclusive lock (the write fence) waits for
-- writes in flight and holds new ones back, on the moving logical shards only. The state is read
-- after the lock (a fresh snapshot in READ COMMITTED), so a write that waited sees "moved".
-- TG_ARGV: the column holding the owner's user id, then the primary key column.
CREATE FUNCTION shard_write_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  target record := CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
  shard integer;
  found_state text;
BEGIN
  IF current_setting('sharding.mover', true) = 'on' THEN
    RETURN target;
  END IF;
  shard := logical_shard_of((to_jsonb(target) ->> TG_ARGV[0])::bigint);
  PERFORM pg_advisory_xact_lock_shared(hashtext(current_schema()), shard);
  SELECT state INTO found_state FROM shard_state WHERE logical_shard = shard;
  IF found_state IS NULL THEN
    RETURN target;
  ELSIF found_state = 'capturing' THEN
    INSERT INTO shard_changes (logical_shard, table_name, row_key)
      VALUES (shard, TG_TABLE_NAME, to_jsonb(target) ->> TG_ARGV[1]);
    RETURN target;
  END IF;
  RAISE EXCEPTION 'logical shard % is not served by this physical shard (%)', shard, found_state
    USING ERRCODE = 'ZS001';
END $$;

CREATE TRIGGER users_shard_guard BEFORE INSERT OR UPDATE OR DELETE ON users
  FOR EACH ROW EXECUTE FUNCTION shard_write_guard('id', 'id');
CREATE TRIGGER jobs_shard_guard BEFORE INSERT OR UPDATE OR DELETE ON jobs
  FOR EACH ROW EXECUTE FUNCTION shard_write_guard('user_id', 'id');
