// Locale-aware formatting for live figures (the page language decides: zh-hans or en).
export const lang = (document.documentElement.lang || "zh-hans").toLowerCase().startsWith("en") ? "en" : "zh-CN";

const relative = new Intl.RelativeTimeFormat(lang, { numeric: "auto" });

/** "2分钟前" / "2 minutes ago" for a number of seconds in the past. */
export function agoText(seconds) {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return relative.format(-s, "second");
  if (s < 3600) return relative.format(-Math.floor(s / 60), "minute");
  if (s < 86400) return relative.format(-Math.floor(s / 3600), "hour");
  return relative.format(-Math.floor(s / 86400), "day");
}

// Chinese as the server's templates write it: "long" would give 85秒钟 beside the server's 85秒
const UNIT_DISPLAY = lang === "en" ? "long" : "short";

function unit(value, name) {
  return new Intl.NumberFormat(lang, { style: "unit", unit: name, unitDisplay: UNIT_DISPLAY, maximumFractionDigits: 1 }).format(value);
}

/** A duration for people: "45秒" / "3 minutes" / "1.5 hours". */
export function durationText(seconds) {
  if (seconds == null || Number.isNaN(Number(seconds))) return null;
  const s = Number(seconds);
  if (s < 90) return unit(Math.round(s), "second");
  if (s < 5400) return unit(Math.round(s / 60), "minute");
  return unit(Math.round(s / 360) / 10, "hour");
}

/** Countdown "m:ss". */
export function clockText(seconds) {
  const s = Math.max(0, Math.ceil(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

/** A rate in 0..1 (or already a percentage) as "98%". */
export function percentText(rate) {
  if (rate == null || Number.isNaN(Number(rate))) return null;
  const r = Number(rate) > 1 ? Number(rate) / 100 : Number(rate);
  return new Intl.NumberFormat(lang, { style: "percent", maximumFractionDigits: 0 }).format(r);
}

export function integerText(n) {
  return new Intl.NumberFormat(lang).format(Number(n) || 0);
}

/** Money in minor units: 4900 CNY -> "¥49.00". */
export function moneyText(minor, currency = "CNY") {
  return new Intl.NumberFormat(lang, { style: "currency", currency, currencyDisplay: "narrowSymbol" }).format((Number(minor) || 0) / 100);
}

// Times read as the server renders them ("23:42"): in its active time zone (data-time-zone,
// templates/base.html) on a 24-hour clock, whatever the browser's zone and locale.
function knownZone(name) {
  try {
    return name ? new Intl.DateTimeFormat("en", { timeZone: name }).resolvedOptions().timeZone : undefined;
  } catch (_) {
    return undefined; // a zone this browser does not know: its own
  }
}

const clock = { timeZone: knownZone(document.documentElement.dataset.timeZone), hourCycle: "h23" };
const dayKey = new Intl.DateTimeFormat("en-CA", { timeZone: clock.timeZone, dateStyle: "short" });
const hourMinute = new Intl.DateTimeFormat(lang, { ...clock, hour: "2-digit", minute: "2-digit" });
const dayHourMinute = new Intl.DateTimeFormat(lang, { ...clock, month: "numeric", day: "numeric", hour: "2-digit", minute: "2-digit" });
const hourMinuteSecond = new Intl.DateTimeFormat(lang, { ...clock, hour: "2-digit", minute: "2-digit", second: "2-digit" });

/** "23:42" today (in the server's zone), "12/6 23:42" on another day. */
export function timeText(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  const sameDay = dayKey.format(d) === dayKey.format(new Date());
  return (sameDay ? hourMinute : dayHourMinute).format(d);
}

/** "23:42:05": the time of day of a Date, to the second. */
export function timeOfDayText(date) {
  return hourMinuteSecond.format(date);
}
