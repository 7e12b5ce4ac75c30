// Labs: exercises built from the AZ-104 chapter, served by azemu's admin API (/_azemu/labs), when present.
import { arm, get } from "./arm.js";
import { banner, h, link, table } from "./dom.js";
import { showError, title } from "./app.js";

export async function labsBlade(rest) {
  const main = document.getElementById("main");
  let labs;
  try {
    labs = (await get("/_azemu/labs")).value || [];
  } catch (err) {
    main.replaceChildren(title("Labs"), err.status === 404 ? banner("info", "This azemu serves no labs.") : showError(err));
    return;
  }
  const id = rest.replace(/^\//, "");
  if (!id) {
    main.replaceChildren(
      title("Labs"),
      h("p", {}, "Exercises built from the AZ-104 chapter on generalizing and capturing images. Start one, do the task (here, with the az CLI or the SDK), then Check: each requirement is checked against azemu's state."),
      table(
        ["Lab", "Kind", "Status", "Resource group"],
        labs.map((l) => [link(`#/labs/${l.id}`, l.title), l.trap ? `trap ${l.trap}` : l.kind, l.status, l.resourceGroup]),
        "Labs",
      ),
    );
    return;
  }
  const lab = await get(`/_azemu/labs/${encodeURIComponent(id)}`);
  const out = h("div", { id: "lab-result", "aria-live": "polite" });
  const act = (verb) => async () => {
    out.replaceChildren(h("p", { role: "status" }, "Working…"));
    try {
      const r = (await arm("POST", `/_azemu/labs/${encodeURIComponent(id)}/${verb}`)).data;
      if (verb === "check") {
        out.replaceChildren(
          banner(r.passed ? "success" : "warning", r.summary),
          h("ul", { class: "findings" }, (r.findings || []).map((f) => h("li", { class: f.ok ? "ok" : "bad" }, h("strong", {}, `${f.ok ? "✔" : "✘"} ${f.requirement}`), h("p", {}, f.found), f.seed ? h("p", { class: "cite" }, `The chapter: ${f.seed}`) : null, f.azure ? h("p", { class: "cite" }, `Azure: ${f.azure}`) : null))),
        );
      } else if (verb === "hint") {
        out.replaceChildren(banner("info", `Hint ${r.number} of ${r.of}: ${r.hint}`));
      } else {
        out.replaceChildren(banner("success", `${verb === "start" ? "Started" : "Reset"}: resource group ${lab.resourceGroup}.`));
      }
    } catch (err) {
      out.replaceChildren(showError(err));
    }
  };
  main.replaceChildren(
    title(lab.title, h("span", { class: "subtitle" }, lab.trap ? `Trap ${lab.trap}` : "Exercise")),
    h("blockquote", {}, lab.quote || ""),
    h("h2", {}, "The situation"),
    h("p", {}, lab.story || ""),
    h("h2", {}, "Your task"),
    h("p", {}, lab.task || ""),
    h("nav", { class: "toolbar", "aria-label": "Lab commands" }, ["start", "check", "hint", "reset"].map((v) => h("button", { type: "button", id: `lab-${v}`, class: v === "check" ? "" : "secondary", onclick: act(v) }, v[0].toUpperCase() + v.slice(1)))),
    out,
    h("p", {}, link("#/labs", "All labs")),
  );
  if (lab.progress?.status) out.replaceChildren(h("p", { class: "muted" }, `Status: ${lab.progress.status}`));
}
