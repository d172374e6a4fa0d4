/**
 * The clock of office hours (`officeHours` in the configuration), dependency-free so that the
 * constructs, the ops tools and the application pipeline's wake function share it: which days a
 * schedule wakes, where a moment falls in the schedule's own time zone, and when an environment
 * woken outside office hours should go back to sleep.
 */
import type { Naming } from '../config/naming';

/** A weekly schedule: wake on `days` at `start`, sleep every day at `stop`, in `timeZone`. */
export interface WeeklySchedule {
  /** IANA time zone, e.g. `Europe/Berlin` (daylight saving included). */
  readonly timeZone: string;
  /** `MON-FRI` or `MON,WED,FRI`. */
  readonly days: string;
  /** `HH:MM`. */
  readonly start: string;
  readonly stop: string;
}

/** Minutes the database starts before the instances, so that it is available when they boot. */
export const DATABASE_LEAD_MINUTES = 20;

/** Minutes an environment woken outside office hours stays awake (a deploy and its checks). */
export const DEFAULT_HOLD_MINUTES = 120;

const DAY_INDEX = { SUN: 0, MON: 1, TUE: 2, WED: 3, THU: 4, FRI: 5, SAT: 6 } as const;
type Day = keyof typeof DAY_INDEX;
const MINUTES_PER_DAY = 24 * 60;

/** `HH:MM` as minutes after midnight. */
export function clockMinutes(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
}

/** The days of `MON-FRI` or `MON,WED,FRI`, as indexes 0 (Sunday) … 6. */
export function awakeDays(days: string): number[] {
  const [from, to] = days.split('-') as [Day, Day | undefined];
  if (to === undefined) return days.split(',').map((d) => DAY_INDEX[d as Day]);
  const out: number[] = [];
  for (let d = DAY_INDEX[from]; ; d = (d + 1) % 7) {
    out.push(d);
    if (d === DAY_INDEX[to]) return out;
  }
}

/** The weekday (0 Sunday … 6) and minutes after midnight of `now` in `timeZone`. */
export function localTime(now: Date, timeZone: string): { day: number; minute: number } {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    weekday: 'short',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(now);
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  const day = DAY_INDEX[part('weekday').toUpperCase() as Day];
  return { day, minute: Number(part('hour')) * 60 + Number(part('minute')) };
}

/**
 * When an environment woken at `now` should go back to sleep: `holdMinutes` later — unless the
 * schedule puts it to sleep or wakes it first anyway, then `undefined`:
 * - `now` lies within office hours, counted from the database's start `leadMinutes` before
 *   `start` (the daily `stop` puts it to sleep);
 * - today's `stop` comes within `holdMinutes` (it does the same);
 * - the next scheduled wake (the database's start) comes within `holdMinutes`: sleeping just
 *   before it would only cut the working day's first minutes.
 * Minutes are counted on the local clock; across a daylight-saving switch the next wake may be
 * off by the hour the switch moves.
 */
export function sleepAfterWake(
  schedule: WeeklySchedule,
  now: Date,
  holdMinutes: number,
  leadMinutes: number,
): Date | undefined {
  const { day, minute } = localTime(now, schedule.timeZone);
  const days = awakeDays(schedule.days);
  const wake = clockMinutes(schedule.start) - leadMinutes;
  const stop = clockMinutes(schedule.stop);
  if (days.includes(day) && minute >= wake && minute < stop) return undefined;
  if (minute < stop && stop - minute <= holdMinutes) return undefined;
  for (let ahead = 0; ahead <= 7; ahead++) {
    if (!days.includes((day + ahead) % 7)) continue;
    const untilWake = ahead * MINUTES_PER_DAY + wake - minute;
    if (untilWake <= 0) continue;
    if (untilWake <= holdMinutes) return undefined;
    break;
  }
  return new Date(now.getTime() + holdMinutes * 60_000);
}

/** How an environment woken outside office hours goes back to sleep (scripts/ops/wake-pass.ts). */
export interface SleepAfterWakeSettings {
  readonly schedule: WeeklySchedule;
  /** Minutes it stays awake after the wake. */
  readonly holdMinutes: number;
  /** Minutes the database starts before the instances ({@link DATABASE_LEAD_MINUTES}). */
  readonly leadMinutes: number;
  readonly dbInstance: string;
  readonly autoScalingGroup: string;
  readonly maxCapacity: number;
  /** The group's one-time scheduled action (`sleep-after-wake`). */
  readonly groupActionName: string;
  /** EventBridge Scheduler one-time schedule that stops the database, and the role it runs as. */
  readonly databaseScheduleName: string;
  readonly databaseScheduleRoleArn: string;
}

/**
 * An environment's {@link SleepAfterWakeSettings}, from its configuration and names: the one
 * mapping the ops command and the application pipeline's wake function (through its construct)
 * share. `databaseScheduleRoleArn` is the ARN of `naming.dbScheduleRole` as the caller writes it.
 */
export function sleepAfterWakeSettings(
  env: { readonly officeHours: WeeklySchedule; readonly compute: { readonly maxCapacity: number } },
  naming: Pick<
    Naming,
    'dbInstance' | 'autoScalingGroup' | 'sleepAfterWakeAction' | 'dbSleepAfterWakeSchedule'
  >,
  databaseScheduleRoleArn: string,
  holdMinutes: number = DEFAULT_HOLD_MINUTES,
): SleepAfterWakeSettings {
  const { timeZone, days, start, stop } = env.officeHours;
  return {
    schedule: { timeZone, days, start, stop },
    holdMinutes,
    leadMinutes: DATABASE_LEAD_MINUTES,
    dbInstance: naming.dbInstance,
    autoScalingGroup: naming.autoScalingGroup,
    maxCapacity: env.compute.maxCapacity,
    groupActionName: naming.sleepAfterWakeAction,
    databaseScheduleName: naming.dbSleepAfterWakeSchedule,
    databaseScheduleRoleArn,
  };
}
