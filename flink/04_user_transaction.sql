-- user_transaction: every change to a transaction as a typed, append-only row (the history Redshift
-- stores): amount as DECIMAL(12,2), the transaction time as TIMESTAMP_LTZ(3), the change's operation in
-- cdc_op (a delete carries the row as it was). Connector modes assumed: decimal.handling.mode=double,
-- time.precision.mode=connect (RECEIVED_AT arrives as Avro timestamp-millis, i.e. TIMESTAMP_LTZ(3)).
-- Event time is the transaction time. The watermark trails it by 3 s: more than the spread of a burst the
-- app stamps ahead of its commit (about 1 s) plus commit skew between concurrent writers, so no transaction
-- arrives late, and little enough that a flag follows the next few transactions. One bucket keyed by account keeps each account's changes in order and lets a
-- single event advance the watermark at demo volume, where most partitions of a wider topic sit idle.
CREATE TABLE user_transaction (
  WATERMARK FOR received_at AS received_at - INTERVAL '3' SECOND
)
DISTRIBUTED BY (account_id) INTO 1 BUCKETS
WITH (
  'changelog.mode' = 'append',
  'value.format' = 'avro-registry',
  'value.fields-include' = 'all'
)
AS SELECT
  CAST(c.img.ID AS BIGINT) AS id,
  CAST(c.img.ACCOUNT_ID AS BIGINT) AS account_id,
  CAST(c.img.AMOUNT AS DECIMAL(12, 2)) AS amount,
  c.img.IP_ADDRESS AS ip_address,
  c.img.RECEIVED_AT AS received_at,
  c.op AS cdc_op,
  TO_TIMESTAMP_LTZ(c.ts_ms, 3) AS changed_at
FROM (
  SELECT CASE WHEN `op` = 'd' THEN `before` ELSE `after` END AS img, `op` AS op, `ts_ms` AS ts_ms
  FROM `fd.SAMPLE.USER_TRANSACTION`
  WHERE `op` IN ('c', 'r', 'u', 'd')
) AS c;
