-- Ids in URLs are random (issue 12): walking sequential ids listed every user. The bigint stays
-- the primary key (and the shard key); only public_id ever leaves the server. Existing rows get
-- their own random id.
ALTER TABLE users ADD COLUMN public_id uuid NOT NULL DEFAULT gen_random_uuid();
ALTER TABLE users ADD CONSTRAINT users_public_id_unique UNIQUE (public_id);
