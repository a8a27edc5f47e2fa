/**
 * SQL expression: the enterprise row `alias` is on the positive list today (Asia/Shanghai date):
 * its latest decision in effect is an `add` whose validity has not ended. Same rule as
 * `currentPositiveList` of @offsite/regulation, inlined so lists can mark listed enterprises
 * without a query per row.
 */
export function listedSql(alias: string): string {
  const today = `(now() at time zone 'Asia/Shanghai')::date`;
  return `coalesce((select d.action = 'add' and (d.valid_until is null or d.valid_until >= ${today})
      from positive_list_decisions d where d.enterprise_id = ${alias}.id and d.valid_from <= ${today}
     order by d.id desc limit 1), false)`;
}
