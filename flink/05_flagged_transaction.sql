-- flagged_transaction: each new transaction sent from an address outside the customers' usual ones
-- (scenarios.ALLOWED_IPS), with the time Flink saw it. Only inserts and snapshot rows count (cdc_op INSERT):
-- an update or a delete of a transaction is not a new transaction and must not raise a flag.
CREATE OR ALTER MATERIALIZED TABLE flagged_transaction
WITH (
  'changelog.mode' = 'append',
  'value.format' = 'avro-registry'
)
START_MODE = RESUME_OR_FROM_BEGINNING
AS SELECT
  id AS transaction_id,
  account_id,
  amount,
  ip_address,
  received_at,
  CURRENT_TIMESTAMP AS detected_at
FROM user_transaction
WHERE cdc_op = 'INSERT'
  AND ip_address NOT IN (
    '192.0.2.10', '192.0.2.11', '192.0.2.12', '192.0.2.13', '192.0.2.14',
    '192.0.2.15', '192.0.2.16', '192.0.2.17', '192.0.2.18', '192.0.2.19'
  );
