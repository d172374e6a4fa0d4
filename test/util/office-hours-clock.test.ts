/**
 * The clock of office hours: the days a schedule wakes, a moment on the schedule's own clock
 * (daylight saving included), and when an environment woken outside office hours sleeps again.
 */
import { loadEnvironment } from '../../lib/config/load';
import { Naming } from '../../lib/config/naming';
import {
  awakeDays,
  localTime,
  sleepAfterWake,
  sleepAfterWakeSettings,
} from '../../lib/util/office-hours-clock';
import { STAGING_SLEEP_AFTER_WAKE } from '../helpers/ops';

const BERLIN = { timeZone: 'Europe/Berlin', days: 'MON-FRI', start: '07:00', stop: '20:00' };
const HOLD = 120;
const LEAD = 20;

test('the days of a range (across the week end) or a list', () => {
  expect(awakeDays('MON-FRI')).toEqual([1, 2, 3, 4, 5]);
  expect(awakeDays('FRI-MON')).toEqual([5, 6, 0, 1]);
  expect(awakeDays('MON,WED')).toEqual([1, 3]);
});

test('local time in the schedule’s zone, summer and winter time', () => {
  // Monday 30 November 2026 (CET, UTC+1) and Wednesday 1 July 2026 (CEST, UTC+2).
  expect(localTime(new Date('2026-11-30T22:09:00Z'), 'Europe/Berlin')).toEqual({
    day: 1,
    minute: 23 * 60 + 9,
  });
  expect(localTime(new Date('2026-07-01T05:30:00Z'), 'Europe/Berlin')).toEqual({
    day: 3,
    minute: 7 * 60 + 30,
  });
  expect(localTime(new Date('2026-11-29T23:30:00Z'), 'Europe/Berlin')).toEqual({ day: 1, minute: 30 });
});

test.each<[string, string, string | undefined]>([
  // Monday 23:09 Berlin: asleep by schedule, woken by a push → sleeps again 2 h later.
  ['a push on a weekday evening', '2026-11-30T22:09:00Z', '2026-12-01T00:09:00.000Z'],
  ['a Saturday morning', '2026-12-05T09:00:00Z', '2026-12-05T11:00:00.000Z'],
  // Sunday 23:00 Berlin: Monday's database start (06:40) is 7 h 40 min away.
  ['Sunday night', '2026-12-06T22:00:00Z', '2026-12-07T00:00:00.000Z'],
  // Within office hours (Tuesday 10:00 Berlin) the daily stop does it.
  ['within office hours', '2026-12-01T09:00:00Z', undefined],
  // Tuesday 06:50 Berlin: the database has started by schedule, the instances wake at 07:00.
  ['between the database start and the instances', '2026-12-01T05:50:00Z', undefined],
  // Tuesday 05:30 Berlin: the database starts at 06:40, within the 2 hours.
  ['just before the scheduled wake', '2026-12-01T04:30:00Z', undefined],
  // Saturday 19:00 Berlin: the daily stop at 20:00 comes first (it runs every day).
  ['before the daily stop on a weekend', '2026-12-05T18:00:00Z', undefined],
])('%s (%s) → %s', (_, now, expected) => {
  expect(sleepAfterWake(BERLIN, new Date(now), HOLD, LEAD)?.toISOString()).toBe(expected);
});

test('a Friday night wake holds over the weekend for 2 hours only (next wake Monday)', () => {
  // Friday 22:00 Berlin (CEST in July).
  expect(sleepAfterWake(BERLIN, new Date('2026-07-03T20:00:00Z'), HOLD, LEAD)?.toISOString()).toBe(
    '2026-07-03T22:00:00.000Z',
  );
});

test("an environment's sleep settings from its configuration and names (the one mapping the CLI and the wake function share)", () => {
  const roleArn = 'arn:aws:iam::700558745280:role/v1-orcha-staging-db-office-hours';
  expect(sleepAfterWakeSettings(loadEnvironment('staging'), new Naming('staging'), roleArn)).toEqual(
    STAGING_SLEEP_AFTER_WAKE,
  );
  expect(
    sleepAfterWakeSettings(loadEnvironment('staging'), new Naming('staging'), roleArn, 360).holdMinutes,
  ).toBe(360);
});
