// An exported page's server: the API's answers for one trace, written into the page by the
// export (server/offline.py), answer the page's requests, so the viewer works from a file.
// common.js asks `PyronaOffline.fetch(path)` instead of the network when this is loaded.
"use strict";

window.PyronaOffline = (() => {
  // the answers, gzipped JSON in base64 (server/offline.py): unpacked once, before any answer
  let data = null;
  const ready = (async () => {
    const packed = atob(document.getElementById("offline-data").textContent.trim());
    const bytes = Uint8Array.from(packed, (c) => c.charCodeAt(0));
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    data = JSON.parse(await new Response(stream).text());
    return data;
  })();

  // Inside a notebook the page is an iframe's srcdoc (about:srcdoc), whose URL cannot take
  // the step the viewer writes into it: the page works on without it.
  const replaceState = history.replaceState.bind(history);
  history.replaceState = (...args) => {
    try { replaceState(...args); } catch (_) { /* a URL this page cannot have */ }
  };

  function answer(status, body, type) {
    return new Response(body, { status, headers: { "Content-Type": type } });
  }

  function missing(what) {
    const message = `${what} is not in this exported file (it holds the trace's steps, ` +
      "their diagrams for every combination of view options (one option changed at a time " +
      "in long traces), and their analyses).";
    return answer(404, JSON.stringify({ error: { kind: "not-exported", message } }), "application/json");
  }

  /** The diagram of step n for the options in `params` (unknown options ignored). A step
   * whose every combination is here lists the options that change it (`relevant`): the
   * others draw the same diagram as at their defaults, which is the one kept. */
  function mermaid(n, params) {
    const relevant = data.relevant && data.relevant[n];
    const q = data.options.map((name) => {
      let v = params.has(name) ? params.get(name) : String(data.defaults[name]);
      if (relevant && !relevant.includes(name)) v = String(data.defaults[name]);
      return `${name}=${v === "1" || v === "true" ? 1 : 0}`;
    }).join("&");
    const at = data.mermaid[`${n}|${q}`];
    return at === undefined ? missing("This combination of view options")
      : answer(200, data.texts[at], "text/plain; charset=utf-8");
  }

  async function fetch(path, options = {}) {
    await ready;
    const method = (options.method || "GET").toUpperCase();
    if (method !== "GET") return missing("Changing the trace");
    const url = new URL(path, "http://offline.invalid/");
    const m = url.pathname.match(/^(\/api\/traces\/[^/]+\/steps\/(\d+))\/mermaid$/);
    if (m) return mermaid(Number(m[2]), url.searchParams);
    let body = data.paths[url.pathname];
    if (body === undefined) return missing(url.pathname);
    const kinds = url.searchParams.get("kinds");
    if (kinds && body.events) body = { ...body, events: body.events.filter((e) => kinds.split(",").includes(e.kind)) };
    return answer(200, JSON.stringify(body), "application/json");
  }

  return { fetch, ready };
})();
