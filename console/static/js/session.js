// The signed-in operator: a JWT pasted in or given as #token=<JWT>, kept in this browser's localStorage.
// The page only reads the token's claims (role, sub, exp) to choose what to show; the service checks the
// signature and the role on every call, so editing the token here gains nothing.

import { t } from "./i18n.js";

const KEY = "avito-console.token";

function decodePart(part) {
  const base64 = part.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(part.length / 4) * 4, "=");
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes));
}

/** The claims of a JWT, or throws an Error with a sentence for the sign-in form. */
export function claimsOf(token) {
  const parts = String(token || "").trim().split(".");
  if (parts.length !== 3) throw new Error(t("session.notJwt"));
  let claims;
  try {
    claims = decodePart(parts[1]);
  } catch {
    throw new Error(t("session.unreadable"));
  }
  if (typeof claims !== "object" || claims === null) throw new Error(t("session.noClaims"));
  if (typeof claims.exp === "number" && claims.exp * 1000 <= Date.now()) throw new Error(t("session.expired"));
  return claims;
}

export class Session {
  constructor() {
    this.token = null;
    this.claims = null;
  }

  get role() {
    return this.claims?.role || "";
  }

  get isAdmin() {
    return this.role === "admin";
  }

  get signedIn() {
    return Boolean(this.token) && !this.expired();
  }

  expired() {
    return typeof this.claims?.exp === "number" && this.claims.exp * 1000 <= Date.now();
  }

  /** Sign in with `token`; throws an Error (with a sentence) for a token that cannot be one. */
  signIn(token) {
    const trimmed = String(token || "").trim();
    this.claims = claimsOf(trimmed);
    this.token = trimmed;
    try {
      localStorage.setItem(KEY, trimmed);
    } catch {
      // private mode without storage: the session lasts as long as the tab
    }
  }

  signOut() {
    this.token = this.claims = null;
    try {
      localStorage.removeItem(KEY);
    } catch {
      // nothing stored
    }
  }

  /**
   * Sign in from the address (#token=<JWT>, which is then removed from the address bar and history) or from
   * storage. Returns an error sentence when the address held a bad token, else null.
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
    let stored = null;
    try {
      stored = localStorage.getItem(KEY);
    } catch {
      stored = null;
    }
    if (stored) {
      try {
        this.signIn(stored);
      } catch {
        this.signOut();
      }
    }
    return null;
  }
}
