-- The executive persona: Security Hub findings of the last 90 days by day, severity, account and Region.
SELECT
  date_trunc('day', time_dt) AS finding_day,
  severity,
  accountid AS account_id,
  region AS finding_region,
  count(*) AS finding_count,
  count_if(compliance.status = 'FAILED') AS failed_check_count
FROM $findings
WHERE time_dt >= current_timestamp - INTERVAL '90' DAY
GROUP BY 1, 2, 3, 4
