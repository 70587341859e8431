-- 021_prepared.sql - the setting prepared_per_runtime: how many prepared
-- containers wait per runtime configuration (docs/decisions.md, "Prepared
-- containers"); 0 turns them off, so this key may be 0 (an integer >= 0,
-- as the pool's budgets of 020: runit_pool_setting_ok). The value shape
-- gets this key in front of whatever the check holds now, as 020 does, so
-- the keys other migrations added keep their shapes.

ALTER TABLE settings DROP CONSTRAINT settings_key_check;
DO $$
DECLARE
	def text;
BEGIN
	SELECT pg_get_constraintdef(c.oid) INTO def FROM pg_constraint c
		WHERE c.conrelid = 'settings'::regclass AND c.conname = 'settings_value_shape';
	IF def IS NULL OR def !~ 'CASE\s+key\s+WHEN' THEN
		RAISE EXCEPTION 'settings_value_shape is not the CASE this migration expects: %', def;
	END IF;
	def := regexp_replace(def, 'CASE\s+key\s+WHEN',
		'CASE key WHEN ''prepared_per_runtime''::text THEN runit_pool_setting_ok(value) WHEN');
	ALTER TABLE settings DROP CONSTRAINT settings_value_shape;
	EXECUTE 'ALTER TABLE settings ADD CONSTRAINT settings_value_shape ' || def;
END $$;
INSERT INTO settings (key, value) VALUES ('prepared_per_runtime', '1')
ON CONFLICT (key) DO NOTHING;
-- The allowed keys are rebuilt from the keys present (as 008_history.sql).
DO $$
BEGIN
	EXECUTE format('ALTER TABLE settings ADD CONSTRAINT settings_key_check CHECK (key IN (%s))',
		(SELECT string_agg(quote_literal(key), ', ' ORDER BY key) FROM settings));
END $$;
