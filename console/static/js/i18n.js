// The console's language and time: t(key, params) from one dictionary per language (i18n/ru.js, i18n/en.js),
// plural forms by the browser's Intl.PluralRules, dates and 24-hour times by Intl.DateTimeFormat in the
// user's time zone. Russian is the default; the choice of language is remembered in this browser.
// Hand-written rather than a library: the page has no build step and needs only these few lines.

import ru from "./i18n/ru.js";
import en from "./i18n/en.js";

export const DICTIONARIES = { ru, en };
export const DEFAULT_LANGUAGE = "ru";
export const DEFAULT_TIME_ZONE = "Europe/Moscow";
const LOCALES = { ru: "ru-RU", en: "en-GB" };
const LANGUAGE_KEY = "avito-console.language";
const TIME_ZONE_KEY = "avito-console.timeZone";

let current = DEFAULT_LANGUAGE;
let zone = DEFAULT_TIME_ZONE;
let cache = null; // the formatters for (current, zone), built on first use

function stored(key) {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

function store(key, value) {
  try {
    if (value === null) localStorage.removeItem(key);
    else localStorage.setItem(key, value);
  } catch {
    // private mode without storage: the choice lasts as long as the page
  }
}

function validZone(name) {
  try {
    new Intl.DateTimeFormat("en", { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/** Reads the remembered language and time zone; sets <html lang>. Call once before the first render. */
export function initI18n() {
  const language = stored(LANGUAGE_KEY);
  current = Object.hasOwn(DICTIONARIES, language || "") ? language : DEFAULT_LANGUAGE;
  const timeZone = stored(TIME_ZONE_KEY);
  zone = timeZone && validZone(timeZone) ? timeZone : DEFAULT_TIME_ZONE;
  cache = null;
  document.documentElement.lang = current;
}

export function language() {
  return current;
}

/** Switches the language (remembered in this browser) and <html lang>; the caller re-renders. */
export function setLanguage(value) {
  if (!Object.hasOwn(DICTIONARIES, value)) return;
  current = value;
  cache = null;
  store(LANGUAGE_KEY, value);
  document.documentElement.lang = value;
}

export function timeZone() {
  return zone;
}

/** The user's own time zone (an IANA name, e.g. from a user setting); null returns to Europe/Moscow. */
export function setTimeZone(value) {
  if (value !== null && !validZone(value)) return false;
  zone = value || DEFAULT_TIME_ZONE;
  cache = null;
  store(TIME_ZONE_KEY, value || null);
  return true;
}

function formats() {
  if (cache) return cache;
  const locale = LOCALES[current];
  const hours = { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: zone };
  cache = {
    plural: new Intl.PluralRules(locale),
    number: new Intl.NumberFormat(locale),
    money: new Intl.NumberFormat(locale, { style: "currency", currency: "RUB" }),
    time: new Intl.DateTimeFormat(locale, hours),
    day: new Intl.DateTimeFormat(locale, { day: "numeric", month: "short", timeZone: zone }),
    dayYear: new Intl.DateTimeFormat(locale, { day: "numeric", month: "short", year: "numeric", timeZone: zone }),
    full: new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "short", hourCycle: "h23", timeZone: zone }),
    // YYYY-MM-DD of an instant in the user's zone (en-CA writes dates that way)
    key: new Intl.DateTimeFormat("en-CA", { year: "numeric", month: "2-digit", day: "2-digit", timeZone: zone }),
    // calendar days (YYYY-MM-DD, no time zone of their own)
    calendar: new Intl.DateTimeFormat(locale, { day: "numeric", month: "short", year: "numeric", timeZone: "UTC" }),
    calendarShort: new Intl.DateTimeFormat(locale, { day: "2-digit", month: "2-digit", timeZone: "UTC" }),
  };
  return cache;
}

function entryOf(key) {
  const entry = DICTIONARIES[current][key] ?? DICTIONARIES[DEFAULT_LANGUAGE][key];
  if (entry === undefined) console.warn(`i18n: no text for "${key}"`);
  return entry;
}

/** Whether the dictionaries have `key`. */
export function has(key) {
  return Object.hasOwn(DICTIONARIES[current], key) || Object.hasOwn(DICTIONARIES[DEFAULT_LANGUAGE], key);
}

/**
 * The text for `key` with {name} placeholders filled from `params` (numbers formatted for the language).
 * A plural entry ({one, few, many, other}) is chosen by `params.count` with Intl.PluralRules.
 */
export function t(key, params = {}) {
  let entry = entryOf(key);
  if (entry === undefined) return key;
  if (typeof entry === "object") entry = entry[formats().plural.select(Number(params.count))] ?? entry.other;
  return entry.replace(/\{(\w+)\}/g, (whole, name) => {
    if (!Object.hasOwn(params, name)) return whole;
    const value = params[name];
    return typeof value === "number" ? formats().number.format(value) : String(value ?? "");
  });
}

function dateOf(iso) {
  const date = iso ? new Date(iso) : null;
  return date && !Number.isNaN(date.getTime()) ? date : null;
}

/** "14:05" today (in the user's time zone), "3 дек." earlier this year, "3 дек. 2025 г." before; "" for no time. */
export function shortTime(iso, now = new Date()) {
  const date = dateOf(iso);
  if (!date) return "";
  const f = formats();
  const day = f.key.format(date);
  const today = f.key.format(now);
  if (day === today) return f.time.format(date);
  return day.slice(0, 4) === today.slice(0, 4) ? f.day.format(date) : f.dayYear.format(date);
}

/** "7 дек. 2026 г., 14:05" in the user's time zone; "" for no time. */
export function fullTime(iso) {
  const date = dateOf(iso);
  return date ? formats().full.format(date) : "";
}

/** Today's date (YYYY-MM-DD) in the user's time zone, or that of `date`. */
export function dayKey(date = new Date()) {
  return formats().key.format(date);
}

/** A calendar day "2026-12-07" -> "7 дек. 2026 г." (or "07.12" with short). */
export function calendarDay(day, { short = false } = {}) {
  const date = dateOf(`${day}T00:00:00Z`);
  if (!date) return day || "";
  return (short ? formats().calendarShort : formats().calendar).format(date);
}

/** Kopecks -> "1 234,56 ₽" (null -> "—"). */
export function roubles(kopecks) {
  if (kopecks === null || kopecks === undefined) return "—";
  return formats().money.format(kopecks / 100);
}

/** A number for the language ("1 234"). */
export function number(value) {
  return formats().number.format(value);
}
