// One message as the operator sees it, from the contract's message (Avito's `content` object unchanged):
// text, image (content.image.sizes), link, item, location, call, voice (content.voice.voice_id), deleted.

import { h, safeUrl } from "./dom.js";
import { fullTime, has, shortTime, t } from "./i18n.js";

const DELETABLE_FOR_MS = 60 * 60 * 1000; // Avito lets the sender delete a message within an hour

/** The "WxH" -> url entry closest to `width` from above (the largest when none is that wide). */
export function imageSize(sizes, width) {
  const entries = Object.entries(sizes || {})
    .map(([key, url]) => ({ width: Number.parseInt(key, 10) || 0, url: safeUrl(url) }))
    .filter((entry) => entry.url)
    .sort((a, b) => a.width - b.width);
  if (!entries.length) return null;
  return (entries.find((entry) => entry.width >= width) || entries[entries.length - 1]).url;
}

export function canDelete(message, now = Date.now()) {
  if (message.direction !== "out" || message.type === "deleted") return false;
  const sent = new Date(message.createdAt).getTime();
  return Number.isFinite(sent) && now - sent < DELETABLE_FOR_MS;
}

/** A one-line summary for the inbox ("Фото", "Голосовое сообщение", the text...). */
export function preview(last) {
  if (!last) return "";
  const label = last.type && has(`message.type.${last.type}`) ? t(`message.type.${last.type}`) : last.type;
  const text = last.text || label || "";
  return last.direction === "out" ? t("message.you", { text }) : text;
}

function link(url, text, testid) {
  const href = safeUrl(url);
  if (!href) return h("span", {}, text || url || "");
  return h("a", { href, target: "_blank", rel: "noopener noreferrer", dataset: { testid } }, text || href);
}

function imageBody(content) {
  const sizes = content?.image?.sizes;
  const src = imageSize(sizes, 320);
  const full = imageSize(sizes, 4000);
  if (!src) return h("span", { class: "muted" }, t("message.photoNoPreview"));
  return h(
    "a",
    { href: full, target: "_blank", rel: "noopener noreferrer" },
    h("img", { class: "photo", src, alt: t("message.photo"), loading: "lazy", dataset: { testid: "message-image" } }),
  );
}

function itemBody(content) {
  const item = content?.item || {};
  const picture = safeUrl(item.image_url);
  return h(
    "div",
    { class: "card", dataset: { testid: "message-item" } },
    picture ? h("img", { class: "thumb", src: picture, alt: "", loading: "lazy" }) : null,
    h("div", {}, link(item.item_url, item.title || t("message.type.item"), "item-link"), item.price_string ? h("div", { class: "muted" }, item.price_string) : null),
  );
}

function locationBody(content) {
  const place = content?.location || {};
  const lat = Number(place.lat);
  const lon = Number(place.lon);
  const label = place.title || place.text || t("message.type.location");
  const map = Number.isFinite(lat) && Number.isFinite(lon)
    ? `https://www.openstreetmap.org/?mlat=${lat}&mlon=${lon}#map=16/${lat}/${lon}`
    : null;
  return h(
    "div",
    { class: "card", dataset: { testid: "message-location" } },
    h("span", { class: "pin", "aria-hidden": "true" }),
    map ? link(map, label, "location-link") : label,
    place.text && place.text !== label ? h("div", { class: "muted" }, place.text) : null,
  );
}

function linkBody(message) {
  const linked = message.content?.link || {};
  const previewData = linked.preview || {};
  return h(
    "div",
    { dataset: { testid: "message-link" } },
    link(linked.url, linked.text || linked.url, "link"),
    previewData.title ? h("div", { class: "card muted" }, previewData.title, previewData.description ? ` — ${previewData.description}` : "") : null,
  );
}

function voiceBody(message, actions) {
  const voiceId = message.content?.voice?.voice_id;
  if (!voiceId) return h("span", { class: "muted" }, t("message.type.voice"));
  const audio = h("audio", { controls: true, preload: "none", hidden: true, dataset: { testid: "voice-audio" } });
  const status = h("span", { class: "muted small" });
  const button = h(
    "button",
    {
      type: "button",
      class: "ghost",
      dataset: { testid: "voice-play", voiceId },
      onclick: async () => {
        // Avito's voice links expire within an hour: ask for a fresh one on every play.
        button.disabled = true;
        status.textContent = t("message.voiceLoading");
        try {
          const url = safeUrl(await actions.voiceUrl(message, voiceId));
          if (!url) throw new Error(t("message.voiceNoLink"));
          audio.src = url;
          audio.hidden = false;
          status.textContent = "";
          await audio.play().catch(() => {
            status.textContent = t("message.voicePressPlay");
          });
        } catch (error) {
          status.textContent = error.message;
        } finally {
          button.disabled = false;
        }
      },
    },
    t("message.voicePlay"),
  );
  return h("div", { class: "voice" }, button, status, audio);
}

function bodyOf(message, actions) {
  const content = message.content || {};
  switch (message.type) {
    case "image":
      return imageBody(content);
    case "voice":
      return voiceBody(message, actions);
    case "item":
      return itemBody(content);
    case "location":
      return locationBody(content);
    case "link":
      return linkBody(message);
    case "call":
      return h("span", { class: "muted" }, content.call?.status === "missed" ? t("message.missedCall") : t("message.type.call"));
    case "deleted":
      return h("span", { class: "muted deleted" }, t("message.type.deleted"));
    default:
      if (message.text) return h("span", { class: "text" }, message.text);
      return h("span", { class: "muted" }, t("message.unsupported", { type: message.type }));
  }
}

/** Who sent an outgoing message through the service (`sentBy`: its name, or the token's id when it has none);
 * nothing for a message sent from Avito's own app or stored before the service recorded senders. */
function senderElement(sentBy) {
  if (!sentBy || !sentBy.userId) return null;
  const name = sentBy.name || sentBy.userId;
  return h(
    "span",
    { class: "sender", title: t("message.sentBy", { name }), dataset: { testid: "message-sender", userId: sentBy.userId } },
    name,
  );
}

/** The message element; `actions` gives voiceUrl(message, voiceId) and remove(message). */
export function messageElement(message, actions) {
  const own = message.direction === "out";
  const remove = canDelete(message)
    ? h(
        "button",
        {
          type: "button",
          class: "link danger small",
          title: t("message.deleteTitle"),
          dataset: { testid: "delete-message" },
          onclick: () => actions.remove(message),
        },
        t("message.delete"),
      )
    : null;
  return h(
    "li",
    {
      class: `message ${own ? "out" : "in"} type-${message.type}`,
      dataset: { testid: "message", messageId: message.id, direction: message.direction, type: message.type },
    },
    h("div", { class: "bubble" }, bodyOf(message, actions)),
    h(
      "div",
      { class: "meta" },
      own ? senderElement(message.sentBy) : null,
      h("time", { datetime: message.createdAt, title: fullTime(message.createdAt) }, shortTime(message.createdAt)),
      own && message.isRead ? h("span", { title: t("message.read") }, " ✓✓") : null,
      remove,
    ),
  );
}
