-- Profile photos and the record of finished jobs that makes queue processing idempotent.

-- photo_requested_at is when the upload was completed (the job's creation time): a job that runs
-- late never replaces a newer photo with an older one.
ALTER TABLE users
  ADD COLUMN photo_key text,
  ADD COLUMN photo_requested_at timestamptz;

-- One row per job that took effect. A redelivered job finds its row and does nothing again.
CREATE TABLE jobs (
  id uuid PRIMARY KEY,
  kind text NOT NULL,
  completed_at timestamptz NOT NULL DEFAULT now()
);
