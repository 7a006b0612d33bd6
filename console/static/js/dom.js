// Building the page without innerHTML: every server string goes in as a text node or an attribute value,
// so a chat named "<img onerror=...>" shows as those characters and runs nothing.

/**
 * h("button", {class: "x", dataset: {testid: "send"}, onclick: fn}, "Send") -> <button>.
 * Children: strings (text nodes), nodes, arrays, null/false (skipped).
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "dataset") {
      for (const [key, v] of Object.entries(value)) if (v !== null && v !== undefined) el.dataset[key] = String(v);
    } else if (name.startsWith("on") && typeof value === "function") {
      el.addEventListener(name.slice(2), value);
    } else if (name === "class") {
      el.className = value;
    } else if (name in el && typeof value !== "string") {
      el[name] = value; // properties such as checked, disabled, value
    } else {
      el.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

/** An SVG element (charts, icons); attributes set as given. */
export function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined) continue;
    if (name === "dataset") for (const [k, v] of Object.entries(value)) el.dataset[k] = String(v);
    else el.setAttribute(name, String(value));
  }
  append(el, children);
  return el;
}

/** Only http(s) URLs become links or sources (no javascript:, data: from a server string). */
export function safeUrl(value) {
  if (typeof value !== "string" || !value.trim()) return null;
  const text = /^[a-z][a-z0-9+.-]*:/i.test(value) ? value : `https://${value.replace(/^\/+/, "")}`;
  try {
    const url = new URL(text);
    return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
  } catch {
    return null;
  }
}

// Dates, times and money are formatted for the chosen language in the user's time zone: see i18n.js.
export { shortTime, fullTime, roubles } from "./i18n.js";
