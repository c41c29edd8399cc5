// An organizer's on-sale dashboard: the counts live from the websocket, the last hour's bookings
// per minute (from /api/events/{id}/stats/, redrawn every 10 s), the waiting list and room.
"use strict";

(() => {
  const { $, call, signIn, make } = window.Console;
  const match = location.pathname.match(/\/events\/(\d+)\/dashboard\/?$/);
  const eventId = match ? Number(match[1]) : null;
  const SVG = "http://www.w3.org/2000/svg";

  const showConnection = (state, text) => {
    $("connection").className = `connection ${state}`;
    $("connection").textContent = text;
  };

  const render = (state) => {
    $("sold").textContent = String(state.tickets_sold);
    $("held").textContent = String(state.tickets_held);
    $("available").textContent = String(state.tickets_available);
    $("waiting").textContent = String(state.ticket_types.reduce((n, t) => n + (t.waiting || 0), 0));
    $("types").replaceChildren(...state.ticket_types.map((t) => make("tr", { "data-ticket-type-id": String(t.id) },
      make("td", { text: t.name }), make("td", { class: "number", text: String(t.quantity_sold) }),
      make("td", { class: "number", text: String(t.quantity_held) }),
      make("td", { class: "number", text: String(t.quantity_available) }),
      make("td", { class: "number", text: String(t.waiting || 0) }))));
    $("updated").textContent = `updated ${new Date().toLocaleTimeString()}`;
  };

  const svg = (tag, attributes) => {
    const node = document.createElementNS(SVG, tag);
    for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
    return node;
  };

  const draw = (minutes) => {
    const top = Math.max(1, ...minutes.map((m) => m.bookings));
    const width = 600 / minutes.length;
    const bars = minutes.map((m, i) => {
      const height = (m.bookings / top) * 150;
      const bar = svg("rect", { x: i * width + 1, y: 160 - height, width: width - 2, height });
      bar.append(svg("title", {}));
      bar.firstChild.textContent = `${new Date(m.minute).toLocaleTimeString()}: ${m.bookings} bookings`;
      return bar;
    });
    const axis = svg("line", { x1: 0, y1: 160, x2: 600, y2: 160 });
    const label = svg("text", { x: 2, y: 176 });
    label.textContent = "60 min ago";
    const now = svg("text", { x: 560, y: 176 });
    now.textContent = "now";
    const peak = svg("text", { x: 2, y: 12 });
    peak.textContent = `${top}/min`;
    $("chart").replaceChildren(axis, ...bars, label, now, peak);
    const total = minutes.reduce((n, m) => n + m.bookings, 0);
    const cancelled = minutes.reduce((n, m) => n + m.cancellations, 0);
    $("chart-note").textContent = `${total} bookings and ${cancelled} cancellations in the last hour`;
    $("chart").dataset.total = String(total);
  };

  const loadStats = async () => {
    const { status, body } = await call(`/api/events/${eventId}/stats/`);
    if (status !== 200) {
      $("notice").textContent = body.detail;
      return;
    }
    draw(body.per_minute);
    $("queue-tile").hidden = body.queue === null;
    if (body.queue) {
      $("queued").textContent = String(body.queue.waiting);
      $("queue-label").textContent =
        `in the queue · ${body.queue.admitted} admitted · ${body.queue.admit_per_minute}/min`;
    }
  };

  const listen = () => {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}/ws/events/${eventId}`);
    socket.onopen = () => showConnection("live", "live");
    socket.onmessage = (message) => {
      const data = JSON.parse(message.data);
      if (data.type === "availability") render(data);
    };
    socket.onclose = () => {
      showConnection("reconnecting", "reconnecting…");
      setTimeout(listen, 1000 + Math.random() * 1000);
    };
  };

  if (eventId === null) return;
  signIn(["organizer", "admin"], async () => {
    const { status, body } = await call(`/api/events/${eventId}/`);
    if (status !== 200) {
      $("notice").textContent = body.detail;
      return;
    }
    $("event-name").textContent = body.name;
    document.title = `${body.name} · dashboard`;
    $("console").hidden = false;
    listen();
    await loadStats();
    setInterval(loadStats, 10000);
  });
})();
