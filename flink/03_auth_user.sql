-- auth_user: every change to a customer as a typed, append-only row (the history Redshift stores).
-- A delete carries the row as it was (the envelope's `before`), every other change the row as it is now.
-- The password hash is not carried over. Connector modes assumed: decimal.handling.mode=double (ID and
-- the flags arrive as DOUBLE), time.precision.mode=connect (TIMESTAMP columns arrive as Avro
-- timestamp-millis, i.e. TIMESTAMP_LTZ(3)).
CREATE TABLE auth_user
WITH (
  'changelog.mode' = 'append',
  'value.format' = 'avro-registry'
)
AS SELECT
  CAST(c.img.ID AS BIGINT) AS id,
  c.img.USERNAME AS username,
  c.img.FIRST_NAME AS first_name,
  c.img.LAST_NAME AS last_name,
  c.img.EMAIL AS email,
  c.img.IS_ACTIVE = 1 AS is_active,
  c.img.IS_STAFF = 1 AS is_staff,
  c.img.IS_SUPERUSER = 1 AS is_superuser,
  c.img.DATE_JOINED AS date_joined,
  c.img.LAST_LOGIN AS last_login,
  c.op AS cdc_op,
  TO_TIMESTAMP_LTZ(c.ts_ms, 3) AS changed_at
FROM (
  SELECT CASE WHEN `op` = 'd' THEN `before` ELSE `after` END AS img, `op` AS op, `ts_ms` AS ts_ms
  FROM `fd.SAMPLE.AUTH_USER`
  WHERE `op` IN ('c', 'r', 'u', 'd')
) AS c;
