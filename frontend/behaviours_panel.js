// The viewer's behaviour panel: which behaviour runs at the step shown, and each cown's
// state, holder and queue (GET /api/traces/ID/steps/N/behaviours). Hidden, and idle,
// for a trace without behaviours.
"use strict";

(() => {
  const P = Pyrona;
  const { el, api } = P;
  const panel = document.getElementById("behaviours-panel");
  if (!panel) return;
  const page = P.pageData();
  const base = `/api/traces/${page.trace}`;
  const who = (b) => `#${b.bid} ${b.name}`;
  let shown = null, token = 0;

  async function show(step) {
    shown = step;
    const mine = ++token;
    let data;
    try {
      data = await api(`${base}/steps/${step}/behaviours`);
    } catch (_) {
      return; // (a step out of range while the trace grows: the next poll asks again)
    }
    if (mine !== token) return;
    panel.querySelector(".bh-open").href = `/traces/${page.trace}/behaviours?step=${step}`;
    const nav = document.getElementById("nav-behaviours");
    if (nav) nav.href = `/traces/${page.trace}/behaviours?step=${step}`;
    document.getElementById("bh-panel-now").replaceChildren(data.running
      ? el("span", {}, el("span", { class: "who" }, `#${data.running.bid} ${data.running.name}`), ` runs (thread ${data.thread})`)
      : el("span", { class: "muted" }, `The program's own code (thread ${data.thread})`));
    document.getElementById("bh-panel-cowns").replaceChildren(...data.cowns.filter((c) => c.cid !== null).map((c) =>
      el("tr", { dataset: { cid: c.cid, state: c.state } },
        el("td", {}, c.name),
        el("td", {}, el("span", { class: `bh-state ${c.state}` }, c.state)),
        el("td", {}, c.holder ? `by ${who(c.holder)}` : "",
          c.queue.length ? el("span", { class: "muted" }, `${c.holder ? "; " : ""}waiting: ${c.queue.map(who).join(", ")}`) : ""))));
    panel.dataset.step = step;
    panel.dataset.running = data.running ? data.running.bid : "";
  }

  async function start() {
    let whole;
    try {
      whole = await api(`${base}/behaviours`);
    } catch (_) {
      whole = { behaviours: [] };
    }
    panel.dataset.checked = "";
    if (!whole.behaviours.length) return;
    panel.hidden = false;
    // follow the viewer's step (its state is the one place that knows it)
    setInterval(() => {
      const viewer = window.pyronaViewer;
      const step = viewer ? viewer.state.step : page.step;
      if (step !== shown) show(step);
    }, 200);
  }

  start();
})();
