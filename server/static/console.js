// What the console pages share: signing in (the token kept for the tab), calling the API.
"use strict";

window.Console = (() => {
  const $ = (id) => document.getElementById(id);
  let access = sessionStorage.getItem("stampede-access");

  const call = async (path, options = {}) => {
    const headers = { "Content-Type": "application/json", ...(options.headers || {}) };
    if (access) headers.Authorization = `Bearer ${access}`;
    const response = await fetch(path, { ...options, headers });
    const body = response.status === 204 ? null : await response.json();
    return { status: response.status, body };
  };

  // Sign in with the page's #signin form; ``ready(profile)`` once signed in as one of ``roles``.
  const signIn = (roles, ready) => {
    const begin = async () => {
      const { status, body } = await call("/api/auth/profile/");
      if (status !== 200) {
        access = null;
        sessionStorage.removeItem("stampede-access");
        $("signin").hidden = false;
        return;
      }
      if (!roles.includes(body.role)) {
        $("notice").textContent = `Signed in as ${body.username}, who may not use this page.`;
        return;
      }
      $("signin").hidden = true;
      $("who").textContent = `${body.username} · ${body.role}`;
      ready(body);
    };
    $("signin").addEventListener("submit", async (submitted) => {
      submitted.preventDefault();
      const credentials = { username: $("username").value, password: $("password").value };
      const { status, body } = await call("/api/auth/login/", {
        method: "POST", body: JSON.stringify(credentials),
      });
      if (status !== 200) {
        $("notice").textContent = body.detail || "Could not sign in.";
        return;
      }
      access = body.access;
      sessionStorage.setItem("stampede-access", access);
      $("notice").textContent = "";
      begin();
    });
    if (access) begin();
  };

  // An element with text, attributes and children, for tables built from JSON.
  const make = (tag, attributes = {}, ...children) => {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) {
      if (name === "text") node.textContent = value;
      else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value);
    }
    node.append(...children);
    return node;
  };

  return { $, call, signIn, make, token: () => access };
})();
