// A short two-tone chime on incoming messages, drawn with WebAudio (no sound file to ship or cache).
// Muting is remembered in this browser. Browsers start audio only after the page got a click or key press;
// until then the chime is skipped (it is counted either way, see `played`).

const KEY = "avito-console.muted";

export class Chime {
  constructor() {
    this.context = null;
    this.played = 0;
    try {
      this.muted = localStorage.getItem(KEY) === "1";
    } catch {
      this.muted = false;
    }
    const unlock = () => this.audio()?.resume?.();
    document.addEventListener("pointerdown", unlock, { once: true });
    document.addEventListener("keydown", unlock, { once: true });
  }

  audio() {
    if (!this.context && typeof AudioContext === "function") this.context = new AudioContext();
    return this.context;
  }

  setMuted(muted) {
    this.muted = muted;
    try {
      localStorage.setItem(KEY, muted ? "1" : "0");
    } catch {
      // not remembered
    }
  }

  /** Plays the chime unless muted; returns whether it was played. */
  play() {
    if (this.muted) return false;
    this.played += 1;
    const context = this.audio();
    if (!context || context.state === "suspended") return true;
    const start = context.currentTime;
    [880, 1320].forEach((frequency, index) => {
      const oscillator = context.createOscillator();
      const gain = context.createGain();
      oscillator.type = "sine";
      oscillator.frequency.value = frequency;
      const at = start + index * 0.12;
      gain.gain.setValueAtTime(0.0001, at);
      gain.gain.exponentialRampToValueAtTime(0.2, at + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.25);
      oscillator.connect(gain).connect(context.destination);
      oscillator.start(at);
      oscillator.stop(at + 0.3);
    });
    return true;
  }
}
