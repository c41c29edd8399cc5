// The waiting room's page: sign in, join, watch one's place move live, book once admitted.
// Signing in and calling the API are console.js's, shared with the consoles.
"use strict";

(() => {
  const { $, call, signIn, token } = Console;
  const match = location.pathname.match(/\/events\/(\d+)\/queue\/?$/);
  const eventId = match ? Number(match[1]) : null;
  const api = `/api/events/${eventId}`;
  let admission = null; // {queue_token, admitted_until} once admitted
  let socket = null;

  const showConnection = (state, text) => {
    $("connection").className = `connection ${state}`;
    $("connection").textContent = text;
  };

  const minutes = (seconds) =>
    seconds < 60 ? `${seconds} s` : `${Math.floor(seconds / 60)} min ${seconds % 60} s`;

  const STATES = {
    prequeue: "You are in. When sales open, places are drawn at random: arriving early gives no edge.",
    waiting: "You are in the queue.",
    admitted: "It's your turn: book now.",
    expired: "Your turn has passed. Join again to queue at the back.",
    sold_out: "Sold out.",
  };

  const render = (place) => {
    $("queue").hidden = false;
    $("join").hidden = place !== null && place.state !== "expired";
    if (place === null) {
      $("state").textContent = "Join the queue to get a place.";
      return;
    }
    $("state").textContent = STATES[place.state] || place.state;
    $("state").dataset.state = place.state;
    $("position").textContent = place.position === null ? "–" : String(place.position);
    $("ahead").textContent = place.ahead === null ? "" : `${place.ahead} ahead of you`;
    $("eta").textContent = place.eta_seconds === null || place.eta_seconds === undefined
      ? "" : `· about ${minutes(place.eta_seconds)}`;
    if (place.state === "admitted" && !admission) refresh(); // for the token
    $("book").hidden = !(place.state === "admitted" && admission);
  };

  const refresh = async () => {
    const { status, body } = await call(`${api}/queue/`);
    if (status === 404) return render(null);
    if (status !== 200) return;
    admission = body.state === "admitted" ? body : null;
    $("until").textContent = admission
      ? `book before ${new Date(admission.admitted_until).toLocaleTimeString()}` : "";
    render(body);
  };

  const listen = () => {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    socket = new WebSocket(`${scheme}://${location.host}/ws`);
    socket.onopen = () => socket.send(JSON.stringify({ op: "auth", token: token() }));
    socket.onmessage = (message) => {
      const data = JSON.parse(message.data);
      if (data.type === "authenticated") showConnection("live", "live");
      if (data.type === "queue" && data.event_id === eventId) {
        if (data.state === "admitted") refresh();
        else render(data);
      }
    };
    socket.onclose = () => {
      showConnection("reconnecting", "reconnecting…");
      setTimeout(listen, 1000 + Math.random() * 1000);
    };
  };

  const start = async () => {
    await refresh();
    listen();
  };

  $("join").addEventListener("click", async () => {
    const { status, body } = await call(`${api}/queue/`, { method: "POST" });
    if (status === 200 || status === 201) render(body);
    else $("result").textContent = body.detail;
  });

  $("book").addEventListener("submit", async (submitted) => {
    submitted.preventDefault();
    const order = {
      event_id: eventId,
      items: [{ ticket_type_id: Number($("ticket-type").value), quantity: Number($("quantity").value) }],
    };
    const { status, body } = await call("/api/bookings/", {
      method: "POST", body: JSON.stringify(order),
      headers: { "Queue-Token": admission.queue_token },
    });
    $("result").textContent = status === 201
      ? `Booked: ${body.booking_reference} (${body.total_price})` : body.detail;
    $("result").dataset.status = String(status);
  });

  if (eventId === null) {
    $("event-name").textContent = "No such event";
    return;
  }
  fetch(`${api}/`)
    .then((response) => (response.ok ? response.json() : Promise.reject(response.status)))
    .then((event) => {
      $("event-name").textContent = event.name;
      document.title = `${event.name} · waiting room`;
      $("event-meta").textContent = event.sales_start
        ? `sales open ${new Date(event.sales_start).toLocaleString()}` : "on sale";
    })
    .catch(() => { $("event-name").textContent = "No such event"; });
  fetch(`${api}/ticket-types/?page_size=100`)
    .then((response) => (response.ok ? response.json() : { results: [] }))
    .then((types) => {
      for (const type of types.results) {
        const option = document.createElement("option");
        option.value = String(type.id);
        option.textContent = `${type.name} · ${type.price}`;
        $("ticket-type").appendChild(option);
      }
    });
  signIn(["attendee"], start);
})();
