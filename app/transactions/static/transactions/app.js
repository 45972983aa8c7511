"use strict";
// The demo page: streams normal transactions, simulates fraud scenarios and polls the recent ones.
(() => {
  const app = document.getElementById("app");
  const config = app.dataset;
  const intervalMs = Number(config.streamIntervalMs);
  // Polling also shows rows written elsewhere (other tabs, other pods); each write refreshes at once.
  const pollMs = 2000;
  const toggle = document.getElementById("stream-toggle");
  const status = document.getElementById("status");
  const tbody = document.querySelector("#transactions tbody");
  const empty = document.getElementById("empty");
  const rowCount = document.getElementById("row-count");
  const streamCount = document.getElementById("stream-count");
  const usernameInput = document.getElementById("fraud-username");
  const labels = new Map();
  // Transaction id -> fraud type, for the rows this page simulated.
  const simulated = new Map();
  let streamTimer = null;
  let streamed = 0;

  async function api(url, body) {
    const options = { headers: { Accept: "application/json" }, credentials: "same-origin" };
    if (body !== undefined) {
      options.method = "POST";
      options.headers["Content-Type"] = "application/json";
      options.headers["X-CSRFToken"] = config.csrfToken;
      options.body = JSON.stringify(body);
    }
    const response = await fetch(url, options);
    let data = null;
    try {
      data = await response.json();
    } catch (err) {
      // Not JSON: fall through to the HTTP status below.
    }
    if (!response.ok) {
      throw new Error(data && data.error ? data.error : `HTTP ${response.status}`);
    }
    return data;
  }

  function showStatus(text, kind) {
    status.textContent = text;
    status.className = `status ${kind || ""}`;
  }

  function cell(text, className) {
    const td = document.createElement("td");
    td.textContent = text;
    if (className) td.className = className;
    return td;
  }

  function row(tx) {
    const tr = document.createElement("tr");
    const scenario = simulated.get(tx.id) || "";
    Object.assign(tr.dataset, {
      id: tx.id, username: tx.username, amount: tx.amount, ip: tx.ip_address, scenario,
    });
    const time = new Date(tx.received_at);
    tr.append(
      cell(time.toLocaleTimeString(), "muted"),
      cell(tx.username),
      cell(Number(tx.amount).toLocaleString(undefined, { minimumFractionDigits: 2 }), "num"),
      cell(tx.ip_address, "mono"),
    );
    const tag = document.createElement("td");
    if (scenario) {
      tr.classList.add("fraud");
      const badge = document.createElement("span");
      badge.className = "badge";
      badge.textContent = labels.get(scenario) || scenario;
      tag.append(badge);
    } else {
      tag.textContent = "normal";
      tag.className = "muted";
    }
    tr.append(tag);
    return tr;
  }

  async function refresh() {
    try {
      const data = await api(config.urlRecent);
      tbody.replaceChildren(...data.transactions.map(row));
      empty.hidden = data.transactions.length > 0;
      rowCount.textContent = `latest ${data.transactions.length}`;
    } catch (err) {
      showStatus(`Could not load transactions: ${err.message}`, "error");
    }
  }

  async function streamOnce() {
    try {
      await api(config.urlStream, {});
      streamed += 1;
      streamCount.textContent = String(streamed);
      await refresh();
    } catch (err) {
      stopStreaming();
      showStatus(`Streaming stopped: ${err.message}`, "error");
      return;
    }
    if (toggle.checked) streamTimer = window.setTimeout(streamOnce, intervalMs);
  }

  function stopStreaming() {
    window.clearTimeout(streamTimer);
    streamTimer = null;
    toggle.checked = false;
  }

  toggle.addEventListener("change", () => {
    if (toggle.checked) {
      showStatus(`Streaming one transaction every ${intervalMs} ms.`, "ok");
      streamOnce();
    } else {
      stopStreaming();
      showStatus("Streaming paused.", "");
    }
  });

  document.querySelectorAll("button.scenario").forEach((button) => {
    const type = button.dataset.fraudType;
    labels.set(type, button.dataset.label);
    button.addEventListener("click", async () => {
      const body = { type };
      const username = usernameInput.value.trim();
      if (username) body.username = username;
      button.disabled = true;
      try {
        const data = await api(config.urlFraud, body);
        data.transactions.forEach((tx) => simulated.set(tx.id, type));
        const total = data.transactions.reduce((sum, tx) => sum + Number(tx.amount), 0);
        showStatus(
          `${button.dataset.label}: ${data.transactions.length} transaction(s), total ${total.toFixed(2)}, `
          + `for ${data.username}.`,
          "alert",
        );
        await refresh();
      } catch (err) {
        showStatus(`${button.dataset.label} failed: ${err.message}`, "error");
      } finally {
        button.disabled = false;
      }
    });
  });

  refresh();
  window.setInterval(refresh, pollMs);
})();
