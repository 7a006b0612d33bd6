// A call's recording played in an <audio> element: one module for the reviews view's calls and the client card's
// (issue 22, D7: the block was copied in reviews.js and answering.js).

import { enc } from "./api.js";
import { t } from "./i18n.js";

/**
 * Play the recording of `callId` (of `accountId`) in `player`, with `button` disabled meanwhile. The API's link is
 * short-lived and needs no token; the audio is fetched as audio/mpeg (API Gateway sends bytes) and played from a
 * blob (the previous one is released). Resolves to null once playing, or to the error for the caller to show
 * (`error.code === "recording_not_found"`: Avito has no recording yet).
 */
export async function playRecording(api, player, { accountId, callId, button }) {
  button.disabled = true;
  try {
    const link = await api.get(`/accounts/${enc(accountId)}/calls/${enc(callId)}/record`);
    const base = api.base.replace(/\/api\/v1$/, "");
    const response = await fetch(base + link.url, { headers: { Accept: "audio/mpeg" } });
    if (!response.ok) throw new Error(t("calls.audioFailed", { status: response.status }));
    if (player.src.startsWith("blob:")) URL.revokeObjectURL(player.src);
    player.src = URL.createObjectURL(await response.blob());
    player.hidden = false;
    player.dataset.callId = callId;
    await player.play().catch(() => {});
    return null;
  } catch (error) {
    return error;
  } finally {
    button.disabled = false;
  }
}
