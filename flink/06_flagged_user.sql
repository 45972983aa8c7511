-- flagged_user: one current row per account whose transactions within the 10 minutes up to one of them (that
-- one included) total more than 1000.00 or number more than 10, with the customer's name and email. A flag is
-- raised as the transaction that crosses a threshold arrives, whether or not other traffic follows: nothing here
-- waits for a watermark to be emitted (flink/README.md, "How flagged_user decides").
--
-- Only inserts and snapshot rows count (updates and deletes are not new transactions), and only those that are
-- not late (at or behind the watermark of user_transaction, 3 s behind its newest transaction time): those are
-- ignored, as before. Each transaction is compared with the account's other transactions of the 10 minutes up to
-- it by an event-time interval join, which emits a pair as soon as both rows are there; the watermark only tells
-- it when a row can no longer pair and may be dropped. The pairs are summed per transaction (that aggregate keeps
-- its state for the hour given in the STATE_TTL hint, long after the last pair of a transaction can arrive), and
-- each change of a sum becomes a row again through TO_CHANGELOG; a transaction alone is its own 1-transaction
-- window. Of the windows over a threshold, the account's newest wins (newest transaction time, then highest
-- transaction id, then the fullest window of that transaction).
--
-- The customer comes from the CDC table itself, whose changelog keeps its current row: a renamed customer's
-- flag follows, a deleted customer's flag is deleted (a tombstone on the topic). Keyed and compacted:
-- consumers upsert by account_id, which is NOT NULL because ACCOUNT_ID is a NOT NULL column of
-- USER_TRANSACTION (a key column must be, see flink/README.md), and which is unique in the result because
-- each side of the join is unique per account (the newest flag; the customer's one live row), so the table's
-- key is the query's own key and Flink needs no conflict resolution for it.
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
AS WITH new_transaction AS (
  -- Inserts and snapshot rows that are not late.
  SELECT id, account_id, amount, received_at
  FROM user_transaction
  WHERE cdc_op = 'INSERT'
    AND (CURRENT_WATERMARK(received_at) IS NULL OR received_at > CURRENT_WATERMARK(received_at))
),
with_others AS (
  -- Each new transaction with the sum and number of the account's other transactions of the 10 minutes up to
  -- it, updated as each one pairs with it.
  SELECT /*+ STATE_TTL('pairs' = '1 h') */ account_id, transaction_id, received_at, amount,
    SUM(other_amount) AS others_amount, COUNT(*) AS others
  FROM (
    SELECT t.account_id, t.id AS transaction_id, t.received_at, t.amount, p.amount AS other_amount
    FROM new_transaction AS t
    JOIN new_transaction AS p
      ON p.account_id = t.account_id
      AND p.received_at BETWEEN t.received_at - INTERVAL '10' MINUTE AND t.received_at
      AND p.id <> t.id
  ) AS pairs
  GROUP BY account_id, transaction_id, received_at, amount
)
SELECT
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
    SELECT *, ROW_NUMBER() OVER (
      PARTITION BY account_id ORDER BY received_at DESC, transaction_id DESC, transaction_count DESC
    ) AS newest
    FROM (
      SELECT account_id, transaction_id, received_at, total_amount, transaction_count,
        total_amount > 1000.00 AS over_amount,
        transaction_count > 10 AS over_count
      FROM (
        SELECT account_id, id AS transaction_id, received_at, amount AS total_amount, 1 AS transaction_count
        FROM new_transaction
        UNION ALL
        SELECT account_id, transaction_id, received_at, amount + others_amount AS total_amount,
          others + 1 AS transaction_count
        FROM TO_CHANGELOG(input => TABLE with_others)
        WHERE op <> 'UPDATE_BEFORE'
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
