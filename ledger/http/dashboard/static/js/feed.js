// Following GET /v1/feed (Server-Sent Events) with fetch, so a token goes in a header and not in
// the URL. After a drop it reconnects with Last-Event-ID = the last position seen: the ledger
// sends what was missed, in order, and each change is handled once. The header says so.
import { authHeaders } from "./api.js";
import { $, h, icon } from "./dom.js";

const RETRY_MS = [1000, 2000, 5000, 10000];
let stop = null;

function show(state, text, banner) {
  const status = $("#status");
  status.className = state;
  status.textContent = text;
  const b = $("#banner");
  b.hidden = !banner;
  b.replaceChildren(...(banner ? [icon(state === "down" ? "offline" : "info"), h("span", {}, banner)] : []));
}

function* events(buffer) {
  let end;
  while ((end = buffer.text.indexOf("\n\n")) >= 0) {
    const lines = buffer.text.slice(0, end).split("\n");
    buffer.text = buffer.text.slice(end + 2);
    const data = lines.filter((l) => l.startsWith("data: ")).map((l) => l.slice(6)).join("\n");
    if (lines.includes("event: change") && data) yield JSON.parse(data);
  }
}

/** Follow the feed from position ``after()``; each change goes to ``onChange``. */
export function follow(after, onChange) {
  if (stop) stop.abort();
  const control = new AbortController();
  stop = control;
  let failures = 0, downSince = null, missed = 0, catchingUp = false;
  const receive = (item) => { if (catchingUp) missed += 1; onChange(item); };
  (async () => {
    while (!control.signal.aborted) {
      try {
        const r = await fetch(`/v1/feed?after=${after()}`, { signal: control.signal, cache: "no-store",
          headers: authHeaders({ "Last-Event-ID": String(after()), Accept: "text/event-stream" }) });
        if (!r.ok) throw new Error(`HTTP ${r.status}`);
        const back = downSince;
        failures = 0;
        show("live", "live", null);
        const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
        const buffer = { text: "" };
        if (back) {  // what the ledger sends at once is what was missed
          catchingUp = true; missed = 0;
          setTimeout(() => { catchingUp = false; if (!control.signal.aborted) reconnected(back, missed); }, 500);
        }
        downSince = null;
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer.text += value;
          for (const item of events(buffer)) receive(item);
        }
      } catch (e) { if (control.signal.aborted) return; }
      downSince = downSince || new Date();
      const wait = RETRY_MS[Math.min(failures++, RETRY_MS.length - 1)];
      show("down", "disconnected: reconnecting…",
        `The live feed is disconnected since ${downSince.toLocaleTimeString()}; reconnecting. ` +
        `Changes after #${after()} will be fetched when it is back, none are lost.`);
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  })();
}

function reconnected(since, missed) {
  if ($("#status").className !== "live") return;
  show("live", "live", `Reconnected: ${missed} change${missed === 1 ? "" : "s"} made while ` +
    `disconnected (since ${since.toLocaleTimeString()}) caught up.`);
  setTimeout(() => { if ($("#status").className === "live") show("live", "live", null); }, 8000);
}
