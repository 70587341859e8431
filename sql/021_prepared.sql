-- 021_prepared.sql - the setting prepared_per_runtime: how many prepared
-- containers wait per runtime configuration (docs/decisions.md, "Prepared
-- containers"); 0 turns them off, so this key alone may be 0.

ALTER TABLE settings DROP CONSTRAINT settings_key_check;
ALTER TABLE settings DROP CONSTRAINT settings_value_shape;
INSERT INTO settings (key, value) VALUES ('prepared_per_runtime', '1')
ON CONFLICT (key) DO NOTHING;
ALTER TABLE settings ADD CONSTRAINT settings_value_shape CHECK (CASE key
	WHEN 'signup_enabled' THEN jsonb_typeof(value) = 'boolean'
	WHEN 'global_faq' THEN value::faq IS NOT NULL
	WHEN 'prepared_per_runtime' THEN jsonb_typeof(value) = 'number'
		AND value::numeric >= 0 AND value::numeric = trunc(value::numeric)
	ELSE CASE WHEN jsonb_typeof(value) = 'number'
		THEN value::numeric > 0 AND value::numeric = trunc(value::numeric)
		ELSE false END
END);
-- The allowed keys are rebuilt from the keys present (as 008_history.sql).
DO $$
BEGIN
	EXECUTE format('ALTER TABLE settings ADD CONSTRAINT settings_key_check CHECK (key IN (%s))',
		(SELECT string_agg(quote_literal(key), ', ' ORDER BY key) FROM settings));
END $$;
