// The live availability page: one websocket, the whole state in every message, no build step.
"use strict";

(() => {
  const match = location.pathname.match(/\/events\/(\d+)\/live\/?$/);
  const eventId = match ? Number(match[1]) : null;
  const $ = (id) => document.getElementById(id);
  const total = $("available-total");
  const types = $("ticket-types");
  const connection = $("connection");
  let lastSeq = -1;
  let attempt = 0;

  const showConnection = (state, text) => {
    connection.className = `connection ${state}`;
    connection.textContent = text;
  };

  const row = (ticketType) => {
    let item = types.querySelector(`[data-ticket-type-id="${ticketType.id}"]`);
    if (!item) {
      item = document.createElement("li");
      item.dataset.ticketTypeId = String(ticketType.id);
      item.innerHTML =
        '<span><span class="name"></span><span class="price"></span><span class="note"></span></span>' +
        '<span class="left"></span>';
      types.appendChild(item);
    }
    return item;
  };

  const render = (state) => {
    if (state.seq < lastSeq) return; // an older state than the one shown
    lastSeq = state.seq;
    if (total.textContent !== String(state.tickets_available)) {
      total.textContent = String(state.tickets_available);
      total.classList.add("changed");
      setTimeout(() => total.classList.remove("changed"), 400);
    }
    const held = state.tickets_held ? ` · ${state.tickets_held} held` : "";
    $("sold").textContent = `${state.tickets_sold} of ${state.total_capacity} sold${held} · ${state.status}`;
    const seen = new Set();
    for (const ticketType of state.ticket_types) {
      const item = row(ticketType);
      seen.add(item.dataset.ticketTypeId);
      item.querySelector(".name").textContent = ticketType.name;
      item.querySelector(".price").textContent = ticketType.price;
      const typeHeld = ticketType.quantity_held ? ` · ${ticketType.quantity_held} held` : "";
      const waiting = ticketType.waiting ? ` · ${ticketType.waiting} waiting` : "";
      item.querySelector(".left").textContent = ticketType.is_active
        ? `${ticketType.quantity_available} left${typeHeld}${waiting}`
        : `${ticketType.quantity_available} left (closed)`;
      const opens = ticketType.sales_start ? Date.parse(ticketType.sales_start) : null;
      const note = item.querySelector(".note");
      note.dataset.opens = !ticketType.on_sale && opens && opens > Date.now() ? String(opens) : "";
      const open = state.status === "upcoming" || state.status === "sold_out";
      const selling = open && ticketType.on_sale && ticketType.is_active;
      if (selling && (ticketType.quantity_available === 0 || state.tickets_available === 0)) {
        note.textContent = "sold out — join the waiting list";
      } else {
        note.textContent = ticketType.on_sale || note.dataset.opens ? "" : "sales closed";
      }
      item.classList.toggle(
        "gone", !ticketType.is_active || !ticketType.on_sale || ticketType.quantity_available === 0,
      );
    }
    countdown();
    for (const item of [...types.children]) {
      if (!seen.has(item.dataset.ticketTypeId)) item.remove();
    }
  };

  // "sales open in 1 h 02 min 05 s", every second, for each type not yet on sale.
  const countdown = () => {
    for (const note of types.querySelectorAll(".note[data-opens]")) {
      if (!note.dataset.opens) continue;
      const left = Math.max(0, Math.round((Number(note.dataset.opens) - Date.now()) / 1000));
      const parts = [[Math.floor(left / 86400), "d"], [Math.floor(left / 3600) % 24, "h"],
        [Math.floor(left / 60) % 60, "min"], [left % 60, "s"]];
      const shown = parts.filter(([n], i) => n > 0 || i === 3).map(([n, unit]) => `${n} ${unit}`);
      note.textContent = `sales open in ${shown.join(" ")}`;
    }
  };
  setInterval(countdown, 1000);

  const connect = () => {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}/ws/events/${eventId}`);
    socket.onopen = () => {
      attempt = 0;
      showConnection("live", "live");
    };
    socket.onmessage = (message) => {
      const data = JSON.parse(message.data);
      if (data.type === "availability") render(data);
    };
    socket.onclose = (closed) => {
      if (closed.code === 4404) {
        showConnection("closed", "no such event");
        return;
      }
      // Back off: 0.5 s, 1 s, 2 s … up to 30 s, with jitter so a crowd does not return at once.
      const delay = Math.min(30000, 500 * 2 ** attempt++) * (0.5 + Math.random() / 2);
      showConnection("reconnecting", `reconnecting in ${Math.ceil(delay / 1000)} s…`);
      setTimeout(connect, delay);
    };
  };

  if (eventId === null) {
    $("event-name").textContent = "No such event";
    showConnection("closed", "no such event");
    return;
  }
  fetch(`/api/events/${eventId}/`)
    .then((response) => (response.ok ? response.json() : Promise.reject(response.status)))
    .then((event) => {
      $("event-name").textContent = event.name;
      document.title = `${event.name} · live availability`;
      const start = new Date(event.start_time);
      $("event-meta").textContent = `${event.location} · ${start.toLocaleString()}`;
    })
    .catch(() => {
      $("event-name").textContent = "No such event";
    });
  connect();
})();
