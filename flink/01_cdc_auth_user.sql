-- The AUTH_USER CDC topic in Confluent's documented interpretation of a Debezium schema (flink/README.md):
-- the customer columns, and every change as a retract changelog (an insert or snapshot row is an INSERT, an
-- update an UPDATE_BEFORE/UPDATE_AFTER pair, a delete a DELETE). The two options pin that interpretation (a
-- stack deployed before this design had switched them, see README.md, migration); setting them again is
-- harmless, so this statement may run any number of times. Records that cannot be deserialized go to a
-- dead-letter table instead of failing the tables that read this one.
-- Connector modes assumed: decimal.handling.mode=double, time.precision.mode=connect.
ALTER TABLE `fd.SAMPLE.AUTH_USER` SET (
  'value.format' = 'avro-debezium-registry',
  'changelog.mode' = 'retract',
  'error-handling.mode' = 'log',
  'error-handling.log.target' = 'cdc_auth_user_errors'
);
