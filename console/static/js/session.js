// The signed-in operator, kept in this browser's localStorage. Two ways in:
// - e-mail and password (POST /auth/login, the contract's "People and sign-in"): an access token, a refresh
//   token (used before the access token expires, see app.js) and the user (name, role);
// - a JWT pasted in or given as #token=<JWT> (the call centre's own HS256 tokens; `make run`'s link).
// The page only reads the token's claims (exp, sub, role) to choose what to show; the service checks the
// signature and the role on every call, so editing the token here gains nothing.

import { t } from "./i18n.js";

const KEY = "avito-console.token";
const REFRESH_KEY = "avito-console.refresh";
const USER_KEY = "avito-console.user";

function decodePart(part) {
  const base64 = part.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(part.length / 4) * 4, "=");
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes));
}

/** The claims of a JWT, or throws an Error with a sentence for the sign-in form. */
export function claimsOf(token, { allowExpired = false } = {}) {
  const parts = String(token || "").trim().split(".");
  if (parts.length !== 3) throw new Error(t("session.notJwt"));
  let claims;
  try {
    claims = decodePart(parts[1]);
  } catch {
    throw new Error(t("session.unreadable"));
  }
  if (typeof claims !== "object" || claims === null) throw new Error(t("session.noClaims"));
  if (!allowExpired && typeof claims.exp === "number" && claims.exp * 1000 <= Date.now()) throw new Error(t("session.expired"));
  return claims;
}

function read(key) {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

function write(key, value) {
  try {
    if (value === null || value === undefined) localStorage.removeItem(key);
    else localStorage.setItem(key, value);
  } catch {
    // private mode without storage: the session lasts as long as the tab
  }
}

export class Session {
  constructor() {
    this.token = null;
    this.claims = null;
    this.refreshToken = null;
    this.user = null; // {id, email, name, role, accountIds} from the sign-in answer or GET /me
  }

  /** The role: the user's (sign-in, /me), else the token's own claim (HS256 `role`, Cognito's group). */
  get role() {
    return this.user?.role || this.claims?.role || this.claims?.["cognito:groups"]?.[0] || "";
  }

  /** The user's id as the service knows the caller (the Cognito sub, or the HS256 token's subject). */
  get userId() {
    return this.user?.id || this.claims?.sub || "";
  }

  get isAdmin() {
    return this.role === "admin";
  }

  /** What the top bar shows for the user: the name, else the e-mail, else the token's subject. */
  get displayName() {
    return this.user?.name || this.user?.email || this.claims?.email || this.claims?.sub || "";
  }

  get signedIn() {
    return Boolean(this.token) && !this.expired();
  }

  /** Whether a refresh token can renew the access token (an e-mail and password sign-in). */
  get canRefresh() {
    return Boolean(this.refreshToken);
  }

  /** Milliseconds since 1970 when the access token expires (its `exp`), or null. */
  get expiresAt() {
    return typeof this.claims?.exp === "number" ? this.claims.exp * 1000 : null;
  }

  expired(marginMs = 0) {
    return this.expiresAt !== null && this.expiresAt - marginMs <= Date.now();
  }

  /** Sign in with a pasted or linked `token`; throws an Error (with a sentence) for a token that cannot be one. */
  signIn(token) {
    const trimmed = String(token || "").trim();
    this.claims = claimsOf(trimmed);
    this.token = trimmed;
    this.refreshToken = null;
    this.user = null;
    write(KEY, trimmed);
    write(REFRESH_KEY, null);
    write(USER_KEY, null);
  }

  /** Signed in with e-mail and password: the answer of /auth/login or /auth/new-password. */
  signedInWith({ accessToken, refreshToken, user }) {
    this.claims = claimsOf(accessToken);
    this.token = accessToken;
    this.refreshToken = refreshToken || null;
    write(KEY, accessToken);
    write(REFRESH_KEY, this.refreshToken);
    this.setUser(user || null);
  }

  /** A new access token from /auth/refresh. */
  refreshed({ accessToken }) {
    this.claims = claimsOf(accessToken);
    this.token = accessToken;
    write(KEY, accessToken);
  }

  setUser(user) {
    this.user = user || null;
    write(USER_KEY, user ? JSON.stringify(user) : null);
  }

  signOut() {
    this.token = this.claims = this.refreshToken = this.user = null;
    for (const key of [KEY, REFRESH_KEY, USER_KEY]) write(key, null);
  }

  /**
   * Sign in from the address (#token=<JWT>, which is then removed from the address bar and history) or from
   * storage (an expired access token is kept when a refresh token can renew it). Returns an error sentence when
   * the address held a bad token, else null.
   */
  restore(location, history) {
    const params = new URLSearchParams(location.hash.replace(/^#/, ""));
    const fromAddress = params.get("token");
    if (fromAddress !== null) {
      params.delete("token");
      const rest = params.toString();
      history.replaceState(null, "", location.pathname + location.search + (rest ? `#${rest}` : "#/inbox"));
      try {
        this.signIn(fromAddress);
        return null;
      } catch (error) {
        return error.message;
      }
    }
    const stored = read(KEY);
    if (!stored) return null;
    const refreshToken = read(REFRESH_KEY);
    try {
      this.claims = claimsOf(stored, { allowExpired: Boolean(refreshToken) });
      this.token = stored;
      this.refreshToken = refreshToken;
      this.user = JSON.parse(read(USER_KEY) || "null");
    } catch {
      this.signOut();
    }
    return null;
  }
}
