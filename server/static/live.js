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
      item.innerHTML = '<span><span class="name"></span><span class="price"></span></span><span class="left"></span>';
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
    $("sold").textContent = `${state.tickets_sold} of ${state.total_capacity} sold · ${state.status}`;
    const seen = new Set();
    for (const ticketType of state.ticket_types) {
      const item = row(ticketType);
      seen.add(item.dataset.ticketTypeId);
      item.querySelector(".name").textContent = ticketType.name;
      item.querySelector(".price").textContent = ticketType.price;
      item.querySelector(".left").textContent = ticketType.is_active
        ? `${ticketType.quantity_available} left`
        : `${ticketType.quantity_available} left (closed)`;
      item.classList.toggle("gone", !ticketType.is_active || ticketType.quantity_available === 0);
    }
    for (const item of [...types.children]) {
      if (!seen.has(item.dataset.ticketTypeId)) item.remove();
    }
  };

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
