// Example SQL tasks the site shows analysts: kept apart so that the cloak's tests can run them.
/** Queries the task page shows (SqlReference); test/docs/sql-examples.test.ts runs each. */
export const SQL_EXAMPLES = [
  'SELECT city, count(DISTINCT user) FROM visits GROUP BY city',
  `SELECT city, floor(age / 10) * 10 AS age_bracket, count(DISTINCT user)
FROM visits JOIN people USING (user)
WHERE amount > 100 AND (channel = 'web' OR channel IS NULL)
GROUP BY city, age_bracket`,
  `SELECT CASE WHEN amount >= 100 THEN 'large' ELSE 'small' END AS size,
  extract(dow FROM time) AS weekday, count(DISTINCT user)
FROM purchases WHERE item LIKE 'book%' GROUP BY size, weekday`,
] as const;
