// The viewer's Export menu: the diagram shown as SVG (made here), text downloads from the
// API, and pictures drawn in Chromium by the server (a queued export: asked, polled, then
// downloaded). The status line next to the menu says where a queued export stands.
"use strict";

function PyronaExports({ state, base, trace, query }) {
  const P = Pyrona;
  const $ = (id) => document.getElementById(id);
  const select = $("export");
  const status = $("export-status");
  // made by the server in its queue (seconds): asked, polled, then downloaded
  const DRAWN = { png: "this step as a slide (PNG)", pdf: "the slides (PDF)", gif: "the slides (GIF)",
                  html: "the viewer as one file (HTML)" };

  function download(href, name) {
    const a = P.el("a", { href, download: name });
    document.body.append(a);
    a.click();
    a.remove();
    if (href.startsWith("blob:")) setTimeout(() => URL.revokeObjectURL(href), 5000);
  }

  function say(text, kind) {
    if (!status) return;
    status.textContent = text;
    status.className = "export-status small " + (kind || "muted");
    status.hidden = !text;
  }

  async function drawn(format) {
    const body = format === "png" || format === "html" ? { format, step: state.step } : { format };
    // the slides are the bookmarks when presentation mode keeps some (else the server picks)
    if ((format === "pdf" || format === "gif") && Array.isArray(state.bookmarks) && state.bookmarks.length) {
      body.bookmarks = state.bookmarks.slice(0, 60);
    }
    say(`Making ${DRAWN[format]}…`);
    try {
      let info = await P.api(`${base}/exports`, {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
      });
      while (info.status === "queued" || info.status === "running") {
        say(`Making ${DRAWN[format]}… (${info.status})`);
        await new Promise((resolve) => setTimeout(resolve, 700));
        info = await P.api(`/api/exports/${info.id}`);
      }
      if (info.status !== "done") throw new Error(info.message || "the export failed");
      download(info.download, "");
      say(`${DRAWN[format][0].toUpperCase()}${DRAWN[format].slice(1)}: downloaded.`, "ok");
      setTimeout(() => say(""), 6000);
    } catch (err) {
      say(`The export failed: ${err.message}`, "error");
    }
  }

  select.addEventListener("change", () => {
    const what = select.value;
    select.value = "";
    if (!what) return;
    if (DRAWN[what]) { drawn(what); return; }
    if (what === "svg") {
      const svg = $("stage").querySelector("svg");
      if (!svg) return;
      const text = new XMLSerializer().serializeToString(svg);
      download(URL.createObjectURL(new Blob([text], { type: "image/svg+xml" })), `trace-${trace}-step-${state.step}.svg`);
    } else if (what === "mermaid") {
      download(`${base}/steps/${state.step}/mermaid?${query(state.options)}`, `trace-${trace}-step-${state.step}.mmd`);
    } else {
      download(`${base}/export?format=${what}`, `trace-${trace}.${what}`);
    }
  });
}
