// Live updates: the service's WebSocket ({"event", "data"} frames), reconnecting with backoff.
// Browsers cannot set headers on a WebSocket, so the token goes in ?token= as the contract says.

const PING_EVERY_MS = 5 * 60 * 1000; // API Gateway closes idle WebSockets after 10 minutes
const MIN_BACKOFF_MS = 1000;
const MAX_BACKOFF_MS = 30000;

export class Live extends EventTarget {
  /** @param url the WebSocket URL from config.json (null: no live updates) @param tokenOf () => token */
  constructor(url, tokenOf) {
    super();
    this.url = url;
    this.tokenOf = tokenOf;
    this.socket = null;
    this.state = url ? "connecting" : "off";
    this.attempt = 0;
    this.timer = null;
    this.pinger = null;
    this.stopped = true;
  }

  start() {
    if (!this.url || !this.stopped) return;
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.pinger);
    if (this.socket) {
      this.socket.onclose = null;
      this.socket.close(1000);
      this.socket = null;
    }
    this.setState(this.url ? "connecting" : "off");
  }

  setState(state) {
    if (this.state === state) return;
    this.state = state;
    this.dispatchEvent(new CustomEvent("state", { detail: state }));
  }

  connect() {
    const token = this.tokenOf();
    if (!token || this.stopped) return;
    const url = new URL(this.url);
    url.searchParams.set("token", token);
    this.setState(this.attempt === 0 ? "connecting" : "reconnecting");
    let socket;
    try {
      socket = new WebSocket(url.href);
    } catch {
      this.retry();
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      const reconnected = this.attempt > 0;
      this.attempt = 0;
      this.setState("live");
      clearInterval(this.pinger);
      this.pinger = setInterval(() => this.send({ action: "ping" }), PING_EVERY_MS);
      // Whatever happened while the connection was down was not announced to us: the views reload.
      if (reconnected) this.dispatchEvent(new CustomEvent("resync"));
    };
    socket.onmessage = (message) => {
      let frame;
      try {
        frame = JSON.parse(message.data);
      } catch {
        return;
      }
      if (frame && typeof frame.event === "string") {
        this.dispatchEvent(new CustomEvent(frame.event, { detail: frame.data || {} }));
      }
    };
    socket.onclose = () => {
      clearInterval(this.pinger);
      this.socket = null;
      if (!this.stopped) this.retry();
    };
  }

  retry() {
    this.attempt += 1;
    this.setState("reconnecting");
    // exponential backoff with jitter, so a restarted service is not hit by every console at once
    const ceiling = Math.min(MAX_BACKOFF_MS, MIN_BACKOFF_MS * 2 ** (this.attempt - 1));
    const delay = ceiling / 2 + Math.random() * (ceiling / 2);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(), delay);
  }

  send(frame) {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(frame));
  }
}
