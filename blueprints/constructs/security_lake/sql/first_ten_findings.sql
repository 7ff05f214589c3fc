-- The post's first named query: ten rows of the Security Hub findings table, through its resource link.
SELECT * FROM "AwsDataCatalog"."$database"."$table" LIMIT 10;
