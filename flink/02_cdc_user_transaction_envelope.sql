-- Read the USER_TRANSACTION CDC topic as its raw Debezium envelope, one append-only row per change (see
-- 01): detection counts inserted and snapshotted transactions only, so it needs each change's operation.
-- Records that cannot be deserialized go to a dead-letter table instead of failing the statements.
-- Assumes the CDC connector's decimal.handling.mode=double and time.precision.mode=connect.
ALTER TABLE `fd.SAMPLE.USER_TRANSACTION` SET (
  'value.format' = 'avro-registry',
  'changelog.mode' = 'append',
  'error-handling.mode' = 'log',
  'error-handling.log.target' = 'cdc_user_transaction_errors'
);
