// The admin console: find users and events, change a role, (de)activate, cancel an event.
"use strict";

(() => {
  const { $, call, signIn, make } = window.Console;

  const say = (text) => { $("notice").textContent = text; };

  const userRow = (user) => {
    const role = user.role === "admin"
      ? make("span", { text: "admin" })
      : make("select", { "aria-label": `role of ${user.username}`, onchange: async (changed) => {
          const { status, body } = await call(`/api/admin/users/${user.id}/`, {
            method: "PATCH", body: JSON.stringify({ role: changed.target.value }),
          });
          say(status === 200 ? `${body.username} is now ${body.role}.` : body.detail);
          loadAudit();
        } }, ...["attendee", "organizer"].map((r) => make("option", r === user.role
          ? { text: r, selected: "" } : { text: r })));
    const toggle = user.role === "admin" ? make("span", { text: "yes" }) : make("button", {
      type: "button", class: user.is_active ? "quiet" : "", text: user.is_active ? "Deactivate" : "Reactivate",
      onclick: async () => {
        const { status, body } = await call(`/api/admin/users/${user.id}/`, {
          method: "PATCH", body: JSON.stringify({ is_active: !user.is_active }),
        });
        if (status === 200) {
          say(`${body.username} is ${body.is_active ? "active again" : "deactivated"}.`);
          row.replaceWith(userRow(body));
          loadAudit();
        } else say(body.detail);
      },
    });
    const row = make("tr", { "data-user-id": String(user.id), class: user.is_active ? "" : "inactive" },
      make("td", { text: user.username }), make("td", { text: user.email }),
      make("td", {}, role), make("td", {}, toggle));
    return row;
  };

  const eventRow = (event) => {
    const actions = make("td");
    const cancel = () => {
      const yes = make("button", { type: "button", class: "danger", text: "Yes, cancel it", onclick: async () => {
        const { status, body } = await call(`/api/admin/events/${event.id}/cancel/`, { method: "POST" });
        if (status === 200) {
          say(`${body.name} is cancelled; its bookings are refunded and everyone is mailed.`);
          row.replaceWith(eventRow(body));
          loadAudit();
        } else say(body.detail);
      } });
      const no = make("button", { type: "button", class: "quiet", text: "Keep it", onclick: () => {
        actions.replaceChildren(status());
      } });
      actions.replaceChildren(make("span", { class: "confirm", text: `Cancel ${event.name} and its ${event.tickets_sold} sold tickets? ` }), yes, no);
    };
    const status = () => event.status === "cancelled"
      ? make("span", { text: "cancelled" })
      : make("span", {}, `${event.status} `, make("button", { type: "button", class: "quiet", text: "Cancel…", onclick: cancel }));
    actions.append(status());
    const row = make("tr", { "data-event-id": String(event.id) },
      make("td", {}, make("a", { href: `/events/${event.id}/dashboard`, text: event.name })),
      make("td", { text: event.organizer }), make("td", { text: `${event.tickets_sold} / ${event.total_capacity}` }),
      actions);
    return row;
  };

  const search = async (path, params, target, rowOf) => {
    const query = new URLSearchParams(Object.entries(params).filter(([, v]) => v)).toString();
    const { status, body } = await call(`${path}?${query}`);
    if (status !== 200) return say(JSON.stringify(body));
    target.replaceChildren(...body.results.map(rowOf));
    if (!body.results.length) target.append(make("tr", {}, make("td", { colspan: "4", class: "meta", text: "Nothing found." })));
  };

  const loadUsers = () => search("/api/admin/users/",
    { search: $("user-query").value, role: $("user-role").value }, $("users"), userRow);
  const loadEvents = () => search("/api/admin/events/",
    { search: $("event-query").value, status: $("event-status").value }, $("events"), eventRow);
  const loadAudit = async () => {
    const { status, body } = await call("/api/admin/audit/?page_size=10");
    if (status !== 200) return;
    $("audit").replaceChildren(...body.results.map((entry) => make("li", {
      text: `${new Date(entry.at).toLocaleString()} · ${entry.actor} · ${entry.action} ${entry.target} · ${JSON.stringify(entry.detail)}`,
    })));
  };

  $("user-search").addEventListener("submit", (submitted) => { submitted.preventDefault(); loadUsers(); });
  $("event-search").addEventListener("submit", (submitted) => { submitted.preventDefault(); loadEvents(); });
  signIn(["admin"], () => {
    $("console").hidden = false;
    loadUsers();
    loadEvents();
    loadAudit();
  });
})();
