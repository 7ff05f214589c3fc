-- The post's view: 100 failed Security Hub findings by creation time ($columns and $created_time per source version).
SELECT $columns
FROM "$database"."$table"
WHERE compliance.status = 'FAILED'
ORDER BY $created_time
LIMIT 100
