-- The USER_TRANSACTION CDC topic in Confluent's documented interpretation of a Debezium schema (see 01): the
-- transaction columns as a retract changelog. Safe to run any number of times. Records that cannot be
-- deserialized go to a dead-letter table instead of failing the tables that read this one.
-- Connector modes assumed: decimal.handling.mode=double, time.precision.mode=connect.
ALTER TABLE `fd.SAMPLE.USER_TRANSACTION` SET (
  'value.format' = 'avro-debezium-registry',
  'changelog.mode' = 'retract',
  'error-handling.mode' = 'log',
  'error-handling.log.target' = 'cdc_user_transaction_errors'
);
