-- The security data custodian persona, one source: its events of the last 30 days by day, account and Region.
-- The dataset joins one such query per source with UNION ALL.
SELECT
  '$source_name' AS source_name,
  date_trunc('day', time_dt) AS event_day,
  accountid AS account_id,
  region AS event_region,
  count(*) AS event_count
FROM $table
WHERE time_dt >= current_timestamp - INTERVAL '30' DAY
GROUP BY 1, 2, 3, 4
