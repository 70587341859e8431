-- 014_errors.sql - the errors the admins' "Errors" panel lists.
--
-- Every server instance writes here the errors it collected (errmon.c):
-- its own internal errors (LOG_ERROR lines, INTERNAL answers) and the
-- uncaught errors that browsers reported with client/error. The same
-- error again within a minute (same fingerprint: source, type, message
-- with digits ignored) is not a new row: its count and last_at grow.
-- context holds what helps to find the cause, secrets already scrubbed
-- (passwords, tokens, cookies, Authorization, TOTP codes, the DSN key).
--
-- The table is bounded: the server deletes rows past the newest 2000 and
-- rows older than 30 days (runit_errors_prune), so an error storm cannot
-- fill the disk.

CREATE TABLE errors (
    id          bigserial PRIMARY KEY,
    event_id    text NOT NULL CHECK (event_id ~ '^[0-9a-f]{32}$'),
    fingerprint text NOT NULL CHECK (length(fingerprint) <= 32),
    source      text NOT NULL CHECK (source IN ('server', 'browser')),
    level       text NOT NULL CHECK (level IN ('error', 'warning', 'fatal')),
    type        text NOT NULL DEFAULT '' CHECK (length(type) <= 200),
    message     text NOT NULL CHECK (length(message) <= 4000),
    context     jsonb NOT NULL DEFAULT '{}'::jsonb,
    instance    text NOT NULL,
    user_id     bigint,  -- no foreign key: an error outlives its user, and must not fail to be stored
    count       integer NOT NULL DEFAULT 1 CHECK (count >= 1),
    first_at    timestamptz NOT NULL DEFAULT now(),
    last_at     timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX errors_last_at ON errors (last_at);

-- Keep the newest keep rows and none older than max_age; returns how many went.
CREATE FUNCTION runit_errors_prune(keep integer, max_age interval) RETURNS bigint
LANGUAGE sql AS $$
    WITH gone AS (
        DELETE FROM errors
        WHERE last_at < now() - max_age
           OR id < (SELECT coalesce(min(id), 0) FROM
                     (SELECT id FROM errors ORDER BY id DESC LIMIT keep) newest)
        RETURNING 1)
    SELECT count(*) FROM gone;
$$;
