"use strict";
// The local demo's panel: polls what local Flink flagged and lists it, newest first.
(() => {
  const panel = document.getElementById("local-flags");
  if (!panel) return;
  const url = panel.dataset.urlFlags;
  const pollMs = 1000;
  const lists = {
    flagged_users: panel.querySelector("#flagged-users tbody"),
    flagged_transactions: panel.querySelector("#flagged-transactions tbody"),
  };
  const state = panel.querySelector("#flags-state");

  function header(kind, rows) {
    const table = lists[kind].parentElement;
    const names = rows.length ? Object.keys(rows[0]) : [];
    let thead = table.querySelector("thead");
    if (!thead) {
      thead = document.createElement("thead");
      table.prepend(thead);
    }
    if (thead.dataset.names === names.join(",")) return;
    const tr = document.createElement("tr");
    for (const name of names) {
      const th = document.createElement("th");
      th.textContent = name.replaceAll("_", " ");
      tr.appendChild(th);
    }
    thead.replaceChildren(tr);
    thead.dataset.names = names.join(",");
  }

  function render(kind, rows) {
    header(kind, rows);
    const tbody = lists[kind];
    tbody.replaceChildren(...rows.slice().reverse().map((row) => {
      const tr = document.createElement("tr");
      for (const [key, value] of Object.entries(row)) {
        const td = document.createElement("td");
        td.textContent = value === null ? "" : String(value);
        td.dataset.field = key;
        tr.appendChild(td);
      }
      tr.dataset.json = JSON.stringify(row);
      return tr;
    }));
  }

  async function poll() {
    try {
      const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const data = await response.json();
      for (const kind of Object.keys(lists)) render(kind, data[kind] || []);
      state.textContent = `updated ${new Date().toLocaleTimeString()}`;
    } catch (err) {
      state.textContent = `cannot read flags: ${err.message}`;
    } finally {
      setTimeout(poll, pollMs);
    }
  }
  poll();
})();
