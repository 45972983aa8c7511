-- Read the AUTH_USER CDC topic as its raw Debezium envelope (before/after/op/ts_ms), one append-only
-- row per change, instead of the retract changelog Confluent infers for Debezium schemas: the flattening
-- statements need the operation of every change to keep history and to ignore deletes and updates.
-- Records that cannot be deserialized go to a dead-letter table instead of failing the statements.
-- Assumes the CDC connector's decimal.handling.mode=double and time.precision.mode=connect.
ALTER TABLE `fd.SAMPLE.AUTH_USER` SET (
  'value.format' = 'avro-registry',
  'changelog.mode' = 'append',
  'error-handling.mode' = 'log',
  'error-handling.log.target' = 'cdc_auth_user_errors'
);
