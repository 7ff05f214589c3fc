-- The security operator persona: medium and higher findings (severity_id 3 and up) of the last 7 days.
SELECT
  time_dt AS finding_time,
  severity,
  status AS finding_status,
  finding_info.title AS finding_title,
  metadata.product.name AS product_name,
  accountid AS account_id,
  region AS finding_region,
  compliance.status AS compliance_status
FROM $findings
WHERE time_dt >= current_timestamp - INTERVAL '7' DAY AND severity_id >= 3
