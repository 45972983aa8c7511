-- user_transaction: every change to a transaction as a typed, append-only row (the history Redshift stores):
-- amount as DECIMAL(12,2), the transaction time as TIMESTAMP_LTZ(3), the change's kind in cdc_op (INSERT for
-- a new or snapshotted transaction, UPDATE_AFTER, DELETE with the row as it was; see 03). ID and ACCOUNT_ID
-- are whole numbers that may arrive as BIGINT or DOUBLE; AMOUNT (NUMBER(12,2)) arrives as DOUBLE
-- (decimal.handling.mode=double) and is cast per transaction, so sums are exact.
-- Event time is the transaction time. The watermark trails it by 3 s: more than the spread of a burst the
-- app stamps ahead of its commit (about 1 s) plus commit skew between concurrent writers, so no transaction
-- arrives late, and little enough that a flag follows the next few transactions. One bucket keyed by account
-- keeps each account's changes in order and lets a single event advance the watermark at demo volume, where
-- most partitions of a wider topic sit idle.
CREATE OR ALTER MATERIALIZED TABLE user_transaction (
  WATERMARK FOR received_at AS received_at - INTERVAL '3' SECOND
)
DISTRIBUTED BY (account_id) INTO 1 BUCKETS
WITH (
  'changelog.mode' = 'append',
  'value.format' = 'avro-registry',
  'value.fields-include' = 'all'
)
START_MODE = RESUME_OR_FROM_BEGINNING
AS SELECT
  CAST(ID AS BIGINT) AS id,
  CAST(ACCOUNT_ID AS BIGINT) AS account_id,
  CAST(AMOUNT AS DECIMAL(12, 2)) AS amount,
  IP_ADDRESS AS ip_address,
  RECEIVED_AT AS received_at,
  op AS cdc_op
FROM TO_CHANGELOG(input => TABLE `fd.SAMPLE.USER_TRANSACTION`)
WHERE op <> 'UPDATE_BEFORE';
