// A few DOM helpers: elements are built with textContent (never innerHTML), so nothing a resource's name
// or an error message says can run as script.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") el.className = v;
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "value") el.value = v;
    else if (k === "checked") el.checked = !!v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function link(href, text, attrs = {}) {
  return h("a", { href, ...attrs }, text);
}

export const resourceHref = (id) => `#/resource${id}`;

export function table(columns, rows, caption) {
  return h(
    "table",
    {},
    caption ? h("caption", {}, caption) : null,
    h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", {}, rows.length ? rows.map((r) => h("tr", {}, r.map((cell) => h("td", {}, cell)))) : h("tr", {}, h("td", { colspan: columns.length, class: "empty" }, "No items to display"))),
  );
}

export function banner(kind, ...content) {
  return h("div", { class: `banner ${kind}`, role: kind === "error" ? "alert" : "status" }, ...content);
}

export function field(label, input, hint) {
  const id = input.id || `f-${Math.random().toString(36).slice(2, 9)}`;
  input.id = id;
  return h("div", { class: "field" }, h("label", { for: id }, label), input, hint ? h("p", { class: "hint" }, hint) : null);
}

export function kv(pairs) {
  return h("dl", { class: "essentials" }, pairs.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v ?? "—")]));
}

// Notifications: what the portal did, and how it ended (failures in Azure's own words).
const notes = [];
export function notify(title, status = "info", detail = "") {
  const note = { title, status, detail, at: new Date() };
  notes.unshift(note);
  renderNotes();
  return {
    update(status2, detail2 = "") {
      note.status = status2;
      note.detail = detail2;
      renderNotes();
    },
  };
}

function renderNotes() {
  const box = document.getElementById("notifications");
  if (!box) return;
  box.replaceChildren(
    ...notes.slice(0, 6).map((n) =>
      h("li", { class: `note ${n.status}` }, h("strong", {}, n.title), n.detail ? h("p", {}, n.detail) : null, h("time", {}, n.at.toLocaleTimeString())),
    ),
  );
}
