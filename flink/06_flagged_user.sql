-- flagged_user: one current row per account whose transactions within the last 10 minutes (up to and
-- including each new one) total more than 1000.00 or number more than 10, with the customer's name and
-- email. Each transaction is aggregated over its own trailing 10-minute range once the watermark passes
-- it; the account's newest flag wins. Only inserts and snapshot rows count (updates and deletes are not
-- new transactions). The customer comes from the CDC table itself, whose changelog keeps its current row:
-- a renamed customer's flag follows, a deleted customer's flag is deleted (a tombstone on the topic).
-- Keyed and compacted: consumers upsert by account_id, which is NOT NULL because ACCOUNT_ID is a NOT NULL
-- column of USER_TRANSACTION (a key column must be, see flink/README.md), and which is unique in the result
-- because each side of the join is unique per account (the newest flag; the customer's one live row), so the
-- table's key is the query's own key and Flink needs no conflict resolution for it.
CREATE OR ALTER MATERIALIZED TABLE flagged_user (
  PRIMARY KEY (account_id) NOT ENFORCED
)
DISTRIBUTED BY (account_id) INTO 1 BUCKETS
WITH (
  'changelog.mode' = 'upsert',
  'kafka.cleanup-policy' = 'compact',
  'value.format' = 'avro-registry',
  'value.fields-include' = 'all'
)
START_MODE = FROM_BEGINNING
AS SELECT
  f.account_id,
  u.username,
  TRIM(CONCAT(COALESCE(u.first_name, ''), ' ', COALESCE(u.last_name, ''))) AS full_name,
  u.email,
  f.transaction_count,
  CAST(f.total_amount AS DECIMAL(12, 2)) AS total_amount,
  CASE
    WHEN f.over_amount AND f.over_count THEN 'amount_and_count'
    WHEN f.over_amount THEN 'amount'
    ELSE 'count'
  END AS reason,
  f.received_at - INTERVAL '10' MINUTE AS window_start,
  f.received_at AS last_transaction_at
FROM (
  SELECT *
  FROM (
    SELECT *, ROW_NUMBER() OVER (PARTITION BY account_id ORDER BY received_at DESC) AS newest
    FROM (
      SELECT account_id, received_at, total_amount, transaction_count,
        total_amount > 1000.00 AS over_amount,
        transaction_count > 10 AS over_count
      FROM (
        SELECT account_id, received_at,
          SUM(amount) OVER last_window AS total_amount,
          COUNT(*) OVER last_window AS transaction_count
        FROM user_transaction
        WHERE cdc_op = 'INSERT'
        WINDOW last_window AS (
          PARTITION BY account_id ORDER BY received_at
          RANGE BETWEEN INTERVAL '10' MINUTE PRECEDING AND CURRENT ROW
        )
      )
    )
    WHERE over_amount OR over_count
  )
  WHERE newest = 1
) AS f
JOIN (
  SELECT id, username, first_name, last_name, email
  FROM (
    SELECT *, ROW_NUMBER() OVER (PARTITION BY id ORDER BY id) AS row_of_id
    FROM (
      SELECT CAST(ID AS BIGINT) AS id, USERNAME AS username, FIRST_NAME AS first_name, LAST_NAME AS last_name,
        EMAIL AS email
      FROM `fd.SAMPLE.AUTH_USER`
    )
  )
  WHERE row_of_id = 1
) AS u
  ON f.account_id = u.id;
