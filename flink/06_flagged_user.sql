-- flagged_user: one current row per account whose transactions within the last 10 minutes (up to and
-- including each new one) total more than 1000.00 or number more than 10, with the customer's name and
-- email. Each transaction is aggregated over its own trailing 10-minute range once the watermark passes
-- it; the account's newest flag wins. Only inserts and snapshot rows count (updates and deletes are not
-- new transactions). A deleted customer drops out. Keyed and compacted: consumers upsert by account_id.
CREATE TABLE flagged_user (
  PRIMARY KEY (account_id) NOT ENFORCED
)
DISTRIBUTED BY (account_id) INTO 1 BUCKETS
WITH (
  'changelog.mode' = 'upsert',
  'kafka.cleanup-policy' = 'compact',
  'value.format' = 'avro-registry',
  'value.fields-include' = 'all'
)
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
        WHERE cdc_op IN ('c', 'r')
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
    SELECT *, ROW_NUMBER() OVER (PARTITION BY id ORDER BY changed_at DESC) AS newest
    FROM auth_user
  )
  WHERE newest = 1 AND cdc_op <> 'd'
) AS u
ON f.account_id = u.id;
