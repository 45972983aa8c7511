-- auth_user: every change to a customer as a typed, append-only row (the history Redshift stores).
-- TO_CHANGELOG turns the CDC table's changelog into one row per change with its kind in `op`: INSERT (a new or
-- snapshotted customer), UPDATE_AFTER (the row after an update), DELETE (the row as it was); the UPDATE_BEFORE
-- half of an update is left out. The password hash is not carried over. Whole-number columns (ID and the
-- flags, NUMBER(p)) may arrive as BIGINT or as DOUBLE (decimal.handling.mode=double), so they are compared and
-- cast, never assumed; TIMESTAMP columns arrive as TIMESTAMP_LTZ(3) (time.precision.mode=connect).
CREATE OR ALTER MATERIALIZED TABLE auth_user
WITH (
  'changelog.mode' = 'append',
  'value.format' = 'avro-registry'
)
START_MODE = RESUME_OR_FROM_BEGINNING
AS SELECT
  CAST(ID AS BIGINT) AS id,
  USERNAME AS username,
  FIRST_NAME AS first_name,
  LAST_NAME AS last_name,
  EMAIL AS email,
  IS_ACTIVE = 1 AS is_active,
  IS_STAFF = 1 AS is_staff,
  IS_SUPERUSER = 1 AS is_superuser,
  DATE_JOINED AS date_joined,
  LAST_LOGIN AS last_login,
  op AS cdc_op
FROM TO_CHANGELOG(input => TABLE `fd.SAMPLE.AUTH_USER`)
WHERE op <> 'UPDATE_BEFORE';
