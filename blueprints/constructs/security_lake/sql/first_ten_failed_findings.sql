-- The post's second named query: ten rows of the failed findings view.
SELECT * FROM "$database"."$view" LIMIT 10;
