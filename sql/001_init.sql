-- 001_init.sql - the whole data model of run-it (DESIGN.md): accounts and
-- sessions with TOTP state, runtimes and platforms that admins edit, projects
-- with their files, members and environment, runs with their logs, global
-- settings and the audit log.
--
-- The constraints are the last line of defence: the server validates every
-- input first, but a row that breaks a rule below cannot exist, whichever
-- server instance or raw statement tries to write it. In particular the
-- unique partial index one_active_run allows at most one active run per
-- (user, project); the server maps its SQLSTATE 23505 to "replace the run".
--
-- Conventions: bigint identity keys, timestamptz everywhere, jsonb shapes
-- checked with jsonb_typeof/jsonpath, no extensions. Applied by migrate.c
-- inside one transaction (so no BEGIN/COMMIT here).

-- A relative path inside a project: 1..255 characters, at most 16 segments,
-- no leading '/', no empty, '.' or '..' segment, no trailing '/', no
-- backslash, no control character (C0, DEL, C1). NUL cannot occur in text.
CREATE DOMAIN file_path AS text
	CONSTRAINT file_path_length CHECK (length(VALUE) BETWEEN 1 AND 255)
	CONSTRAINT file_path_relative CHECK (left(VALUE, 1) <> '/')
	CONSTRAINT file_path_segments CHECK (VALUE !~ '(^|/)\.{0,2}(/|$)')
	CONSTRAINT file_path_depth CHECK (length(VALUE) - length(replace(VALUE, '/', '')) < 16)
	CONSTRAINT file_path_backslash CHECK (strpos(VALUE, E'\\') = 0)
	CONSTRAINT file_path_control CHECK (VALUE !~ '[\x01-\x1f\x7f-\x9f]');

-- A JSON array of strings with at least one element: a command as argv,
-- never a string for a shell.
CREATE DOMAIN argv AS jsonb
	CONSTRAINT argv_shape CHECK (jsonb_typeof(VALUE) = 'array'
		AND jsonb_array_length(VALUE) BETWEEN 1 AND 256
		AND NOT jsonb_path_exists(VALUE, '$[*] ? (@.type() != "string")'));

-- A FAQ: array of {question, answer} objects with string members.
CREATE DOMAIN faq AS jsonb
	CONSTRAINT faq_shape CHECK (jsonb_typeof(VALUE) = 'array'
		AND NOT jsonb_path_exists(VALUE,
			'$[*] ? (@.type() != "object" || !exists(@.question) || !exists(@.answer)
			        || @.question.type() != "string" || @.answer.type() != "string")'));

-- Files as one object {path: content}: runtime templates, run snapshots.
CREATE DOMAIN file_map AS jsonb
	CONSTRAINT file_map_shape CHECK (jsonb_typeof(VALUE) = 'object'
		AND NOT jsonb_path_exists(VALUE, '$.* ? (@.type() != "string")'));

-- ---------------------------------------------------------------- accounts

CREATE TABLE users (
	id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	username        text NOT NULL CHECK (username ~ '^[A-Za-z0-9_.-]{3,32}$'),
	password_hash   text NOT NULL CHECK (length(password_hash) BETWEEN 1 AND 512),
	role            text NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'admin')),
	disabled        boolean NOT NULL DEFAULT false,
	-- quotas: NULL means "use the global setting"
	max_active_runs integer CHECK (max_active_runs BETWEEN 0 AND 1000),
	max_projects    integer CHECK (max_projects BETWEEN 0 AND 100000),
	created_at      timestamptz NOT NULL DEFAULT now(),
	updated_at      timestamptz NOT NULL DEFAULT now(),
	last_login_at   timestamptz,
	-- TOTP (RFC 6238): the secret is sealed with libsodium secretbox under a
	-- key outside the database; nonce is crypto_secretbox_NONCEBYTES (24).
	totp_secret_enc         bytea CHECK (octet_length(totp_secret_enc) BETWEEN 17 AND 256),
	totp_nonce              bytea CHECK (octet_length(totp_nonce) = 24),
	totp_enabled            boolean NOT NULL DEFAULT false,
	-- an enrolment begun (auth/totp/begin) and not yet confirmed
	totp_pending_secret_enc bytea CHECK (octet_length(totp_pending_secret_enc) BETWEEN 17 AND 256),
	totp_pending_nonce      bytea CHECK (octet_length(totp_pending_nonce) = 24),
	totp_pending_at         timestamptz,
	-- replay guard: the last accepted 30-second step; a code for this step
	-- or an earlier one is refused
	totp_last_step  bigint CHECK (totp_last_step >= 0),
	-- lockout after failed logins
	failed_logins   integer NOT NULL DEFAULT 0 CHECK (failed_logins >= 0),
	locked_until    timestamptz,
	CONSTRAINT users_totp_pair CHECK ((totp_secret_enc IS NULL) = (totp_nonce IS NULL)),
	CONSTRAINT users_totp_pending_pair CHECK ((totp_pending_secret_enc IS NULL) = (totp_pending_nonce IS NULL)),
	CONSTRAINT users_totp_enabled_has_secret CHECK (NOT totp_enabled OR totp_secret_enc IS NOT NULL)
);
-- usernames are unique ignoring case ("Alice" and "alice" are one account)
CREATE UNIQUE INDEX users_username_lower ON users (lower(username));

-- Single-use TOTP recovery codes, stored hashed (the hash format is the
-- server's: hex digest or a crypt-style string).
CREATE TABLE recovery_codes (
	id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	code_hash  text NOT NULL CHECK (length(code_hash) BETWEEN 16 AND 255),
	created_at timestamptz NOT NULL DEFAULT now(),
	used_at    timestamptz,
	UNIQUE (user_id, code_hash)
);

-- Login sessions. Only a hash of the 256-bit token is stored.
CREATE TABLE sessions (
	id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	user_id      bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	token_hash   bytea NOT NULL UNIQUE CHECK (octet_length(token_hash) = 32),
	created_at   timestamptz NOT NULL DEFAULT now(),
	last_seen_at timestamptz NOT NULL DEFAULT now(),
	expires_at   timestamptz NOT NULL,
	ip           text CHECK (length(ip) <= 64),
	user_agent   text CHECK (length(user_agent) <= 512),
	revoked_at   timestamptz,
	CONSTRAINT sessions_expiry_after_creation CHECK (expires_at > created_at)
);
CREATE INDEX sessions_by_user ON sessions (user_id);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);

-- Rate limiting of logins and sign-ups: one row per attempt, keyed by what
-- is limited, e.g. 'login-addr:203.0.113.7', 'login-user:alice',
-- 'signup-addr:203.0.113.7'. Old rows are deleted by the server.
CREATE TABLE login_attempts (
	id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	key     text NOT NULL CHECK (length(key) BETWEEN 1 AND 200),
	at      timestamptz NOT NULL DEFAULT now(),
	success boolean NOT NULL DEFAULT false
);
CREATE INDEX login_attempts_by_key ON login_attempts (key, at);
CREATE INDEX login_attempts_by_at ON login_attempts (at);

-- ------------------------------------------------- runtimes and platforms

-- A runtime: an image and how to build and run a project in it. Limits are
-- NULL for "the global default" (settings default_*).
CREATE TABLE runtimes (
	id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	code            text NOT NULL UNIQUE CHECK (code ~ '^[a-z0-9][a-z0-9._-]{0,63}$'),
	name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
	language        text NOT NULL CHECK (length(language) BETWEEN 1 AND 50),
	version         text NOT NULL CHECK (length(version) BETWEEN 1 AND 50),
	os              text NOT NULL DEFAULT 'linux' CHECK (os ~ '^[a-z0-9_.-]{1,32}$'),
	arch            text NOT NULL DEFAULT 'amd64' CHECK (arch ~ '^[a-z0-9_.-]{1,32}$'),
	-- an image reference: [registry/]name[:tag][@digest], no whitespace
	image           text NOT NULL CHECK (image ~ '^[A-Za-z0-9][A-Za-z0-9._/:@-]{0,254}$'),
	build_cmd       argv,
	run_cmd         argv NOT NULL,
	entry_file      file_path NOT NULL,
	template        file_map NOT NULL DEFAULT '{}',
	description     text NOT NULL DEFAULT '' CHECK (length(description) <= 10000),
	faq             faq NOT NULL DEFAULT '[]',
	wall_ms         integer CHECK (wall_ms BETWEEN 100 AND 3600000),
	memory_bytes    bigint CHECK (memory_bytes BETWEEN 6291456 AND 68719476736),
	nano_cpus       bigint CHECK (nano_cpus BETWEEN 10000000 AND 64000000000),
	pids            integer CHECK (pids BETWEEN 8 AND 65536),
	output_bytes    bigint CHECK (output_bytes BETWEEN 1024 AND 1073741824),
	network_allowed boolean NOT NULL DEFAULT false,
	enabled         boolean NOT NULL DEFAULT true,
	created_at      timestamptz NOT NULL DEFAULT now(),
	updated_at      timestamptz NOT NULL DEFAULT now()
);

-- A container platform. At most one is the default, and it is enabled.
CREATE TABLE platforms (
	id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name       text NOT NULL UNIQUE CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$'),
	kind       text NOT NULL CHECK (kind IN ('docker', 'podman', 'swarm', 'kubernetes')),
	-- a socket path or URL (unix:///var/run/docker.sock, tcp://host:2376)
	endpoint   text NOT NULL CHECK (length(endpoint) BETWEEN 1 AND 1024
		AND endpoint !~ '[[:space:][:cntrl:]]'),
	-- e.g. {"oci_runtime": "runsc"}
	options    jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(options) = 'object'),
	enabled    boolean NOT NULL DEFAULT true,
	is_default boolean NOT NULL DEFAULT false,
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT platforms_default_is_enabled CHECK (NOT is_default OR enabled)
);
CREATE UNIQUE INDEX platforms_one_default ON platforms ((true)) WHERE is_default;

-- ------------------------------------------------------ projects and files

CREATE TABLE projects (
	id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	owner_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 100
		AND name !~ '[\x01-\x1f\x7f-\x9f]' AND name = btrim(name)),
	description text NOT NULL DEFAULT '' CHECK (length(description) <= 2000),
	runtime_id  bigint NOT NULL REFERENCES runtimes (id) ON DELETE RESTRICT,
	is_public   boolean NOT NULL DEFAULT false,
	forked_from bigint REFERENCES projects (id) ON DELETE SET NULL,
	created_at  timestamptz NOT NULL DEFAULT now(),
	updated_at  timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT projects_not_own_fork CHECK (forked_from <> id)
);
CREATE INDEX projects_by_owner ON projects (owner_id, updated_at DESC);
-- the public gallery, newest first
CREATE INDEX projects_gallery ON projects (created_at DESC, id DESC) WHERE is_public;
CREATE INDEX projects_by_runtime ON projects (runtime_id);
CREATE INDEX projects_by_origin ON projects (forked_from) WHERE forked_from IS NOT NULL;

-- Collaborators; the owner is not listed here.
CREATE TABLE project_members (
	project_id bigint NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
	user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	role       text NOT NULL CHECK (role IN ('editor', 'viewer')),
	added_at   timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (project_id, user_id)
);
CREATE INDEX project_members_by_user ON project_members (user_id);

-- The saved files of a project. version is the server-authoritative
-- version used by file/save (optimistic concurrency) and collab.
CREATE TABLE files (
	id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	project_id bigint NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
	path       file_path NOT NULL,
	content    text NOT NULL,
	size       integer GENERATED ALWAYS AS (octet_length(content)) STORED,
	version    bigint NOT NULL DEFAULT 1 CHECK (version >= 1),
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now(),
	updated_by bigint REFERENCES users (id) ON DELETE SET NULL,
	UNIQUE (project_id, path)
);

-- Earlier versions of a file; the server may prune old ones.
CREATE TABLE file_versions (
	file_id  bigint NOT NULL REFERENCES files (id) ON DELETE CASCADE,
	version  bigint NOT NULL CHECK (version >= 1),
	content  text NOT NULL,
	saved_at timestamptz NOT NULL DEFAULT now(),
	saved_by bigint REFERENCES users (id) ON DELETE SET NULL,
	PRIMARY KEY (file_id, version)
);

-- Environment variables given to a project's runs. Never copied into forks.
CREATE TABLE env_vars (
	project_id bigint NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
	name       text NOT NULL CHECK (name ~ '^[A-Za-z_][A-Za-z0-9_]{0,127}$'
		AND name !~ '^(PATH|HOME|USER|LOGNAME|SHELL|PWD|OLDPWD|HOSTNAME|TERM|TMPDIR|IFS|ENV|BASH_ENV|LD_.*|RUNIT_.*)$'),
	value      text NOT NULL CHECK (octet_length(value) <= 32768),
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (project_id, name)
);

-- ------------------------------------------------------------------- runs

-- One execution of a project's saved code. Active while state <> 'finished';
-- a finished run has a reason and a finish time, an active one neither.
CREATE TABLE runs (
	id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	user_id       bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	project_id    bigint NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
	runtime_id    bigint NOT NULL REFERENCES runtimes (id) ON DELETE RESTRICT,
	platform_id   bigint REFERENCES platforms (id) ON DELETE SET NULL,
	state         text NOT NULL DEFAULT 'queued' CHECK (state IN
		('queued', 'starting', 'building', 'running', 'stopping', 'finished')),
	reason        text CHECK (reason IN ('exited', 'stopped', 'replaced', 'timeout',
		'oom', 'output_limit', 'error', 'cancelled')),
	exit_code     integer,
	container_id  text CHECK (container_id ~ '^[A-Za-z0-9_.-]{1,128}$'),
	-- the server instance that owns the run (reconciliation at start-up)
	instance      text NOT NULL CHECK (length(instance) BETWEEN 1 AND 128),
	created_at    timestamptz NOT NULL DEFAULT now(),
	started_at    timestamptz,
	finished_at   timestamptz,
	first_byte_ms integer CHECK (first_byte_ms >= 0),
	duration_ms   bigint CHECK (duration_ms >= 0),
	output_bytes  bigint NOT NULL DEFAULT 0 CHECK (output_bytes >= 0),
	-- highest run_logs.seq written so far (for run/attach and run/gap)
	last_seq      bigint NOT NULL DEFAULT 0 CHECK (last_seq BETWEEN 0 AND 9007199254740991),
	-- the files the run used, {path: content}; set before the container starts
	code_snapshot file_map,
	error_message text CHECK (length(error_message) <= 4096),
	CONSTRAINT runs_reason_iff_finished CHECK ((state = 'finished') = (reason IS NOT NULL)),
	CONSTRAINT runs_finished_at_iff_finished CHECK ((state = 'finished') = (finished_at IS NOT NULL))
);
-- THE rule: at most one active run per (user, project), whatever the number
-- of server instances. Also serves "active runs of a user" (quota).
CREATE UNIQUE INDEX one_active_run ON runs (user_id, project_id) WHERE state <> 'finished';
CREATE INDEX runs_by_project ON runs (project_id, created_at DESC);
CREATE INDEX runs_active_by_instance ON runs (instance) WHERE state <> 'finished';

-- Output of a run, in order; seq is per run and stays below 2^53.
CREATE TABLE run_logs (
	run_id bigint NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
	seq    bigint NOT NULL CHECK (seq BETWEEN 0 AND 9007199254740991),
	stream text NOT NULL CHECK (stream IN ('stdout', 'stderr', 'status', 'meta')),
	data   text NOT NULL CHECK (octet_length(data) <= 1048576),
	at     timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (run_id, seq)
);

-- --------------------------------------------------- settings and audit

-- Global settings, one row per known key, each with its JSON type checked.
CREATE TABLE settings (
	key        text PRIMARY KEY CHECK (key IN (
		'max_file_bytes', 'max_files_per_project', 'max_project_bytes',
		'max_projects_per_user', 'max_active_runs_per_user',
		'run_history_per_project', 'signup_enabled', 'global_faq',
		'default_wall_ms', 'default_memory_bytes', 'default_nano_cpus',
		'default_pids', 'default_output_bytes',
		'session_max_age_s', 'session_idle_s')),
	value      jsonb NOT NULL,
	updated_at timestamptz NOT NULL DEFAULT now(),
	updated_by bigint REFERENCES users (id) ON DELETE SET NULL,
	CONSTRAINT settings_value_shape CHECK (CASE key
		WHEN 'signup_enabled' THEN jsonb_typeof(value) = 'boolean'
		WHEN 'global_faq' THEN value::faq IS NOT NULL
		ELSE CASE WHEN jsonb_typeof(value) = 'number'
			THEN value::numeric > 0 AND value::numeric = trunc(value::numeric)
			ELSE false END
	END)
);

INSERT INTO settings (key, value) VALUES
	('max_file_bytes',           '262144'),
	('max_files_per_project',    '200'),
	('max_project_bytes',        '2097152'),
	('max_projects_per_user',    '100'),
	('max_active_runs_per_user', '3'),
	('run_history_per_project',  '20'),
	('signup_enabled',           'true'),
	('global_faq',               '[]'),
	('default_wall_ms',          '10000'),
	('default_memory_bytes',     '268435456'),
	('default_nano_cpus',        '1000000000'),
	('default_pids',             '128'),
	('default_output_bytes',     '1048576'),
	('session_max_age_s',        '2592000'),
	('session_idle_s',           '604800');

-- Every admin action (and security events such as logins, if the server
-- chooses). The actor may be deleted later; the entry stays.
CREATE TABLE audit_log (
	id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	at       timestamptz NOT NULL DEFAULT now(),
	actor_id bigint REFERENCES users (id) ON DELETE SET NULL,
	action   text NOT NULL CHECK (action ~ '^[a-z][a-z0-9_./-]{0,63}$'),
	target   text CHECK (length(target) <= 256),
	detail   jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(detail) = 'object'),
	ip       text CHECK (length(ip) <= 64)
);
CREATE INDEX audit_log_by_at ON audit_log (at DESC);
CREATE INDEX audit_log_by_actor ON audit_log (actor_id, at DESC) WHERE actor_id IS NOT NULL;
