// The service's REST API (the contract's /api/v1), called with the operator's token.
// Its base is derived from the page's own address: the console is served at <stage>/console/, the API at
// <stage>/api/v1, so the same files work locally (no stage) and deployed (/prod).

import { has, t } from "./i18n.js";

export function apiBase(location) {
  const stage = location.pathname.replace(/\/console(\/.*)?$/, "");
  return `${location.origin}${stage}/api/v1`;
}

/**
 * A failed call: `status` (0 when the network failed), the contract's `code`, a sentence in `message` (in the
 * console's language when the dictionaries know the code, else the service's own sentence, kept in `serverMessage`).
 */
export class ApiError extends Error {
  constructor(status, code, message, details = []) {
    super(has(`errors.${code}`) ? t(`errors.${code}`) : message);
    this.serverMessage = message;
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

export class Api {
  /**
   * @param session the Session whose token is sent
   * @param onUnauthorized called on a 401 to a call that carried a token (and could not be renewed)
   * @param renew async () => whether the access token was renewed (refresh token); a 401 is then retried once
   */
  constructor(base, session, onUnauthorized, renew = null) {
    this.base = base;
    this.session = session;
    this.onUnauthorized = onUnauthorized;
    this.renew = renew;
  }

  /**
   * The `data` of the contract's success envelope, the whole body with {full: true}; throws ApiError.
   * `anonymous`: no token is sent (the sign-in calls), and a 401 is only this call's answer.
   */
  async request(method, path, { query, json, form, headers = {}, full = false, anonymous = false, retried = false } = {}) {
    const url = new URL(this.base + path);
    for (const [key, value] of Object.entries(query || {})) {
      if (value !== undefined && value !== null && value !== "") url.searchParams.set(key, String(value));
    }
    const init = { method, headers: { Accept: "application/json", ...headers } };
    if (this.session.token && !anonymous) init.headers.Authorization = `Bearer ${this.session.token}`;
    if (json !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(json);
    } else if (form !== undefined) {
      init.body = form; // the browser sets multipart/form-data with its boundary
    }
    let response;
    try {
      response = await fetch(url, init);
    } catch {
      throw new ApiError(0, "network_error", t("errors.network_error"));
    }
    let body = null;
    try {
      body = await response.json();
    } catch {
      body = null;
    }
    if (!response.ok || !body || body.success === false) {
      const error = body?.error || {};
      if (response.status === 401 && init.headers.Authorization) {
        if (!retried && this.renew && (await this.renew())) {
          return this.request(method, path, { query, json, form, headers, full, retried: true });
        }
        this.onUnauthorized?.();
      }
      throw new ApiError(
        response.status,
        error.code || `http_${response.status}`,
        error.message || body?.message || t("api.status", { status: response.status }),
        error.details || [],
      );
    }
    return full ? { ...body, status: response.status } : body.data;
  }

  get(path, query) {
    return this.request("GET", path, { query });
  }

  post(path, json, headers) {
    return this.request("POST", path, { json, headers });
  }

  /** Every item of a paginated list (following nextCursor), at most `maxPages` pages. */
  async all(path, query = {}, maxPages = 20) {
    const items = [];
    let cursor = null;
    for (let page = 0; page < maxPages; page += 1) {
      const body = await this.request("GET", path, { query: { limit: 100, ...query, cursor }, full: true });
      items.push(...(body.data || []));
      cursor = body.nextCursor;
      if (!cursor) break;
    }
    return items;
  }

  /** The Response of a GET asking for `accept` (e.g. text/csv), with the token; throws ApiError when not ok. */
  async raw(path, query = {}, accept = "*/*", retried = false) {
    const url = new URL(this.base + path);
    for (const [key, value] of Object.entries(query || {})) {
      if (value !== undefined && value !== null && value !== "") url.searchParams.set(key, String(value));
    }
    const headers = { Accept: accept };
    if (this.session.token) headers.Authorization = `Bearer ${this.session.token}`;
    let response;
    try {
      response = await fetch(url, { headers });
    } catch {
      throw new ApiError(0, "network_error", t("errors.network_error"));
    }
    if (response.status === 401 && !retried && this.renew && (await this.renew())) return this.raw(path, query, accept, true);
    if (!response.ok) {
      const error = (await response.json().catch(() => null))?.error || {};
      throw new ApiError(response.status, error.code || `http_${response.status}`, error.message || t("api.status", { status: response.status }), error.details || []);
    }
    return response;
  }

  /** One page: {items, nextCursor}. */
  async page(path, query = {}) {
    const body = await this.request("GET", path, { query, full: true });
    return { items: body.data || [], nextCursor: body.nextCursor || null };
  }
}

export function enc(value) {
  return encodeURIComponent(String(value));
}

/** A fresh Idempotency-Key, so a retried send is not sent twice. */
export function idempotencyKey() {
  return crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(16).slice(2)}`;
}
