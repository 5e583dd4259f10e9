// The analyst's afternoon: the questions the 2015 help guides teach, as tasks, in the order they are asked.
import type { PrefetchSpec } from '../../src/shared/index.ts';

export interface Question {
  /** What the analyst asks, for the table. */
  name: string;
  prefetch: PrefetchSpec[];
  code: string;
  /** New data that arrives just before this run (a periodic task's next period). */
  newVisitsDay?: number;
}

const PROFILE: PrefetchSpec[] = [{ table: 'profile' }];
const PURCHASES: PrefetchSpec[] = [{ table: 'purchases' }];
const VISITS: PrefetchSpec[] = [{ table: 'visits' }];

const USERS_PER_CITY = 'report_property("city", tables.profile[0].city);';
const HEAT_MAP = `for (const v of tables.visits) {
  report_property("visits, " + DateTime.day(v.ts), DateTime.hour_range(v.ts));
}`;
const CDF = `let total = 0;
for (const p of tables.purchases) total += p.amount;
for (const limit of [25, 50, 100, 200, 400, 800, 1600]) {
  if (total <= limit) report_property("total spent at most", limit);
}`;
// The periodic task: run once a week; before each run a tenth of the users come back.
const PERIODIC = `for (const v of tables.visits) {
  if (v.seconds > 60) report_property("engaged on page", v.page);
}`;

/**
 * Ordinary questions: each bucket an analyst would expect to be answered (most have hundreds or
 * thousands of users), many with every user in several buckets, as in the help guides' examples.
 */
export const QUESTIONS: Question[] = [
  {
    name: 'true/false: a purchase over 100',
    prefetch: PURCHASES,
    code: 'report_property("purchase over 100", tables.purchases.some((p) => p.amount > 100));',
  },
  {
    name: 'true/false: reached checkout',
    prefetch: VISITS,
    code: 'report_property("reached checkout", tables.visits.some((v) => v.page === "checkout"));',
  },
  { name: 'CDF: total spent', prefetch: PURCHASES, code: CDF },
  {
    name: 'ranges: total spent by 100',
    prefetch: PURCHASES,
    code: `let total = 0;
for (const p of tables.purchases) total += p.amount;
report_property("total spent", total >= 1000 ? "1000+" : Utils.quantize(total, 100));`,
  },
  {
    name: 'nested ranges: age by 20, 10, 5',
    prefetch: PROFILE,
    code: `const age = tables.profile[0].age;
report_property("age by 20", Utils.quantize(age, 20));
report_property("age by 10", Utils.quantize(age, 10));
report_property("age by 5", Utils.quantize(age, 5));`,
  },
  { name: 'users per city', prefetch: PROFILE, code: USERS_PER_CITY },
  {
    name: 'city x gender',
    prefetch: PROFILE,
    code: 'report_property("city, gender", tables.profile[0].city + ", " + tables.profile[0].gender);',
  },
  {
    name: 'age brackets',
    prefetch: PROFILE,
    code: `const age = tables.profile[0].age;
const bracket = age < 25 ? "16-24" : age < 35 ? "25-34" : age < 45 ? "35-44" : age < 55 ? "45-54" : age < 65 ? "55-64" : "65+";
report_property("age bracket", bracket);`,
  },
  {
    name: 'buyers per category',
    prefetch: PURCHASES,
    code: 'for (const p of tables.purchases) report_property("bought", p.category);',
  },
  {
    name: 'category x month',
    prefetch: PURCHASES,
    code: 'for (const p of tables.purchases) report_property(p.category, to_date(p.ts).month);',
  },
  { name: 'heat map: weekday x hour', prefetch: VISITS, code: HEAT_MAP },
  {
    name: 'pages visited',
    prefetch: VISITS,
    code: 'for (const v of tables.visits) report_property("visited", v.page);',
  },
  {
    name: 'time spent on the site',
    prefetch: VISITS,
    code: `let seconds = 0;
for (const v of tables.visits) seconds += v.seconds;
const minutes = seconds / 60;
report_property("minutes on site", minutes < 5 ? "0-5" : minutes < 10 ? "5-10" : minutes < 20 ? "10-20" : minutes < 40 ? "20-40" : minutes < 80 ? "40-80" : "80+");`,
  },
  {
    name: 'time spent per page',
    prefetch: VISITS,
    code: `const time = {};
for (const v of tables.visits) time[v.page] = (time[v.page] || 0) + v.seconds;
for (const [page, s] of Utils.sorted_pairs(time)) report_property("time on " + page, s < 30 ? "under 30s" : s < 120 ? "30s-2min" : "over 2min");`,
  },
  { name: 'rerun: users per city', prefetch: PROFILE, code: USERS_PER_CITY },
  {
    name: 'relabelled: users per place',
    prefetch: PROFILE,
    code: 'report_property("place", tables.profile[0].city);',
  },
  {
    name: 'average purchase by age group',
    prefetch: [{ table: 'profile' }, { table: 'purchases' }],
    code: `const group = Utils.quantize(tables.profile[0].age, 20);
const amounts = tables.purchases.map((p) => p.amount);
if (amounts.length === 0) report_property("no purchases, age", group);
else {
  const average = amounts.reduce((a, b) => a + b, 0) / amounts.length;
  report_property("average purchase, age " + group, average >= 150 ? "150+" : Utils.quantize(average, 25));
}`,
  },
  {
    name: 'purchases per user',
    prefetch: PURCHASES,
    code: 'report_property("purchases", Math.min(tables.purchases.length, 15));',
  },
  {
    name: 'sign-up cohorts by month',
    prefetch: PROFILE,
    code: 'const d = to_date(tables.profile[0].signup); report_property("signed up", d.year + "-" + d.month);',
  },
  {
    name: 'purchase weekdays',
    prefetch: PURCHASES,
    code: 'for (const p of tables.purchases) report_property("purchased on", DateTime.day(p.ts));',
  },
  { name: 'rerun: CDF of total spent', prefetch: PURCHASES, code: CDF },
  {
    name: 'gender x age bracket',
    prefetch: PROFILE,
    code: `const p = tables.profile[0];
report_property(p.gender + ", age", Utils.quantize(p.age, 10));`,
  },
  { name: 'periodic: engaged pages, week 1', prefetch: VISITS, code: PERIODIC },
  { name: 'periodic: engaged pages, week 2', prefetch: VISITS, code: PERIODIC, newVisitsDay: 188 },
  { name: 'periodic: engaged pages, week 3', prefetch: VISITS, code: PERIODIC, newVisitsDay: 195 },
];

/** The separate breakdown: distinct users per (city, age), the first task of a fresh organisation. */
export const BREAKDOWN: Question = {
  name: 'breakdown: users per (city, age)',
  prefetch: [{ table: 'events' }],
  code: 'for (const e of tables.events) report_property("city, age", e.city + ", " + e.age);',
};
