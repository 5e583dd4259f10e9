// The task page's short form of docs/sql.md: what a SQL task may contain, where the analyst writes one.
import { SQL_EXAMPLES } from '../sql-examples.ts';

export function SqlReference() {
  return (
    <details className="help">
      <summary>What a SQL task may contain</summary>
      <pre>
        <code>{SQL_EXAMPLES.join('\n\n')}</code>
      </pre>
      <ul>
        <li>
          <code>count(DISTINCT user)</code> once: the number of distinct users per group.{' '}
          <code>user</code> appears only there and in <code>JOIN t USING (user)</code>.
        </li>
        <li>
          Groups: a column, <code>floor(x / 10) * 10</code> or <code>ceil(x)</code> with{' '}
          <code>+ - * /</code>,{' '}
          <code>extract(year | month | day | hour | dow | isodow | doy FROM time)</code> of seconds
          since 1970, <code>lookup(&apos;table&apos;, column)</code>,{' '}
          <code>CASE WHEN … THEN … ELSE … END</code>. <code>GROUP BY</code> lists them all (by name,
          position or expression).
        </li>
        <li>
          Conditions: <code>= &lt;&gt; &lt; &lt;= &gt; &gt;=</code> with a constant,{' '}
          <code>IN (…)</code>, <code>BETWEEN … AND …</code>, <code>IS [NOT] NULL</code>,{' '}
          <code>IS [NOT] TRUE</code>, <code>[NOT] LIKE &apos;b%&apos;</code> (case-sensitive), with{' '}
          <code>AND</code>, <code>OR</code>, <code>NOT</code> and parentheses.
        </li>
        <li>
          Not supported: <code>count(*)</code> and other aggregates, <code>HAVING</code>,{' '}
          <code>ORDER BY</code>, <code>LIMIT</code>, subqueries, other joins and functions. A
          refused query says what and where (line and column).
        </li>
      </ul>
    </details>
  );
}
