-- 022_platform_tls.sql - engines reached over TCP with TLS client
-- certificates (README "Several engines"). A platform whose endpoint is
-- tcp://host:port (or https://) carries three PEM texts: the CA the
-- engine's certificate must chain to (the only CA trusted), the client
-- certificate and its private key, which the engine's --tlsverify checks.
-- The key is a secret: it is stored sealed under the server key (libsodium
-- secretbox, server/base/secret.c, as TOTP secrets are) and never leaves the
-- server: admin answers say only whether it is set (tls_key_set).
-- Also the reason the last health ping failed (health_error), so admins see
-- why an engine is down (a TLS handshake that failed, a socket missing).

ALTER TABLE platforms
	ADD COLUMN tls_ca text CHECK (length(tls_ca) BETWEEN 1 AND 65536),
	ADD COLUMN tls_cert text CHECK (length(tls_cert) BETWEEN 1 AND 65536),
	ADD COLUMN tls_key_enc bytea CHECK (length(tls_key_enc) BETWEEN 17 AND 65552),
	ADD COLUMN tls_key_nonce bytea CHECK (length(tls_key_nonce) = 24),
	ADD COLUMN health_error text NOT NULL DEFAULT '' CHECK (length(health_error) <= 1000),
	-- the three go together
	ADD CONSTRAINT platforms_tls_whole CHECK (
		(tls_ca IS NULL) = (tls_cert IS NULL) AND (tls_cert IS NULL) = (tls_key_enc IS NULL)
		AND (tls_key_enc IS NULL) = (tls_key_nonce IS NULL));
-- Never plain HTTP to an engine (its API is root on its host): a TCP
-- endpoint has its certificates. NOT VALID: a row written before this
-- migration is refused by the server (TLS_REQUIRED), not by the upgrade.
ALTER TABLE platforms ADD CONSTRAINT platforms_tcp_has_tls CHECK (
	endpoint !~ '^(tcp|https?)://' OR (endpoint !~ '^http://' AND tls_ca IS NOT NULL)) NOT VALID;

-- A platform row as admins see it: the sealed key replaced by whether it is set.
CREATE FUNCTION runit_platform_public(x platforms) RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT to_jsonb(x) - 'tls_key_enc' - 'tls_key_nonce'
		|| jsonb_build_object('tls_key_set', x.tls_key_enc IS NOT NULL);
$$;

-- The health round's report (run_plat.c): up or down, and why it is down.
-- Writes only what differs (every instance calls it every few seconds).
CREATE FUNCTION runit_platform_health(p_id bigint, p_up boolean, p_error text) RETURNS void
LANGUAGE sql AS $$
	UPDATE platforms SET up = p_up,
		up_changed_at = CASE WHEN up IS DISTINCT FROM p_up THEN now() ELSE up_changed_at END,
		health_error = CASE WHEN p_up THEN '' ELSE left(coalesce(p_error, ''), 1000) END
	WHERE id = p_id AND (up IS DISTINCT FROM p_up
		OR health_error <> CASE WHEN p_up THEN '' ELSE left(coalesce(p_error, ''), 1000) END);
$$;

-- admin/platform/create|update: as in 019, with the TLS material
-- {tls_ca, tls_cert, tls_key_enc, tls_key_nonce} (hex for the sealed key),
-- all four present or none (h_admin_config.c checks and seals them; null
-- removes them). A TCP endpoint without them is refused with TLS_REQUIRED.
CREATE OR REPLACE FUNCTION runit_platform_save(p_id bigint, p jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
	cur platforms;
	pid bigint := p_id;
	want_default boolean := (p ->> 'is_default')::boolean;
	ep text;
	has_tls boolean;
BEGIN
	IF pid IS NOT NULL THEN
		SELECT * INTO cur FROM platforms WHERE id = pid FOR UPDATE;
		IF NOT FOUND THEN
			RETURN runit_err('NOT_FOUND', 'no such platform', jsonb_build_object('id', pid));
		END IF;
	END IF;
	ep := coalesce(p ->> 'endpoint', cur.endpoint);
	has_tls := CASE WHEN p ? 'tls_ca' THEN p ->> 'tls_ca' IS NOT NULL ELSE cur.tls_ca IS NOT NULL END;
	IF ep ~ '^http://' THEN
		RETURN runit_err('TLS_REQUIRED', 'an engine is not reached over plain http://: use '
			'tcp://host:port (TLS) with tls_ca, tls_cert and tls_key',
			jsonb_build_object('endpoint', ep));
	END IF;
	IF ep ~ '^(tcp|https)://' AND NOT has_tls THEN
		RETURN runit_err('TLS_REQUIRED', 'a tcp:// engine is reached with TLS client '
			'certificates: give tls_ca, tls_cert and tls_key',
			jsonb_build_object('endpoint', ep));
	END IF;
	IF pid IS NULL THEN
		INSERT INTO platforms (name, code, kind, endpoint, description, options, enabled,
				max_containers, tls_ca, tls_cert, tls_key_enc, tls_key_nonce)
			VALUES (p ->> 'name', coalesce(p ->> 'code', lower(p ->> 'name')),
				p ->> 'kind', p ->> 'endpoint', coalesce(p ->> 'description', ''),
				coalesce(p -> 'options', '{}'::jsonb),
				coalesce((p ->> 'enabled')::boolean, true),
				(p ->> 'max_containers')::integer, p ->> 'tls_ca', p ->> 'tls_cert',
				decode(p ->> 'tls_key_enc', 'hex'), decode(p ->> 'tls_key_nonce', 'hex'))
			RETURNING id INTO pid;
	ELSE
		IF cur.is_default AND want_default IS NOT FALSE AND (p ->> 'enabled')::boolean IS FALSE THEN
			RETURN runit_err('CONFLICT', 'the default platform cannot be disabled; make another platform the default first');
		END IF;
		UPDATE platforms SET
			name = coalesce(p ->> 'name', name),
			code = coalesce(p ->> 'code', code),
			kind = coalesce(p ->> 'kind', kind),
			endpoint = coalesce(p ->> 'endpoint', endpoint),
			description = coalesce(p ->> 'description', description),
			options = coalesce(p -> 'options', options),
			enabled = coalesce((p ->> 'enabled')::boolean, enabled),
			max_containers = CASE WHEN p ? 'max_containers'
				THEN (p ->> 'max_containers')::integer ELSE max_containers END,
			tls_ca = CASE WHEN p ? 'tls_ca' THEN p ->> 'tls_ca' ELSE tls_ca END,
			tls_cert = CASE WHEN p ? 'tls_ca' THEN p ->> 'tls_cert' ELSE tls_cert END,
			tls_key_enc = CASE WHEN p ? 'tls_ca' THEN decode(p ->> 'tls_key_enc', 'hex')
				ELSE tls_key_enc END,
			tls_key_nonce = CASE WHEN p ? 'tls_ca' THEN decode(p ->> 'tls_key_nonce', 'hex')
				ELSE tls_key_nonce END,
			is_default = is_default AND want_default IS NOT FALSE,
			-- another engine: what the old one said no longer holds
			engine_os = CASE WHEN p ? 'endpoint' OR p ? 'kind' THEN '' ELSE engine_os END,
			engine_arch = CASE WHEN p ? 'endpoint' OR p ? 'kind' THEN '' ELSE engine_arch END,
			engine_version = CASE WHEN p ? 'endpoint' OR p ? 'kind' THEN '' ELSE engine_version END,
			engine_info = CASE WHEN p ? 'endpoint' OR p ? 'kind' THEN '{}' ELSE engine_info END,
			engine_seen_at = CASE WHEN p ? 'endpoint' OR p ? 'kind' THEN NULL ELSE engine_seen_at END,
			updated_at = now()
			WHERE id = pid;
	END IF;
	IF want_default THEN
		PERFORM runit_platform_make_default(pid);
	END IF;
	RETURN runit_ok((SELECT runit_platform_public(x) FROM platforms x WHERE x.id = pid));
END $$;
