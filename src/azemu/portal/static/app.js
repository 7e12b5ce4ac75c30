// azemu portal: the router, the resource browser, search and the activity log. Every read and every action
// is an ARM request with the signed-in user's token - the same API the az CLI uses.
import { account, completeSignIn, signIn, signOut, token } from "./auth.js";
import { API, ArmError, get, list, parseId } from "./arm.js";
import { banner, h, kv, link, notify, resourceHref, table } from "./dom.js";
import { captureBlade, createVmBlade, vmBlade } from "./vm.js";
import { consoleBlade } from "./console.js";
import { definitionBlade, galleryBlade, versionBlade } from "./gallery.js";
import { labsBlade } from "./labs.js";

const main = () => document.getElementById("main");
let stopCurrent = null; // a blade's timers, stopped when the user navigates away

export function onLeave(fn) {
  const prev = stopCurrent;
  stopCurrent = () => {
    if (prev) prev();
    fn();
  };
}

export function title(text, ...extra) {
  document.title = `${text} - azemu portal`;
  return h("div", { class: "blade-title" }, h("h1", {}, text), ...extra);
}

export function showError(err) {
  const msg = err instanceof ArmError ? err.describe() : String(err.message || err);
  return banner("error", msg);
}

export const TYPE_NAMES = {
  "microsoft.compute/virtualmachines": "Virtual machine",
  "microsoft.compute/disks": "Disk",
  "microsoft.compute/snapshots": "Snapshot",
  "microsoft.compute/images": "Image",
  "microsoft.compute/galleries": "Azure compute gallery",
  "microsoft.compute/galleries/images": "VM image definition",
  "microsoft.compute/galleries/images/versions": "VM image version",
  "microsoft.compute/virtualmachinescalesets": "Virtual machine scale set",
  "microsoft.network/virtualnetworks": "Virtual network",
  "microsoft.network/networkinterfaces": "Network interface",
  "microsoft.network/publicipaddresses": "Public IP address",
  "microsoft.network/networksecuritygroups": "Network security group",
  "microsoft.network/loadbalancers": "Load balancer",
};
export const typeName = (t) => TYPE_NAMES[String(t).toLowerCase()] || t;

export const apiFor = (type) => {
  const t = type.toLowerCase();
  if (t.startsWith("microsoft.compute/galleries")) return API.gallery;
  if (t === "microsoft.compute/disks" || t === "microsoft.compute/snapshots") return API.disks;
  if (t.startsWith("microsoft.compute/")) return API.compute;
  if (t.startsWith("microsoft.network/")) return API.network;
  if (t.startsWith("microsoft.insights/")) return "2022-10-01";
  return API.resources;
};

// home: subscriptions -------------------------------------------------------------------------------------
async function home() {
  const subs = await list("/subscriptions", API.subscriptions);
  const el = main();
  el.replaceChildren(
    title("Home"),
    h("p", {}, "Subscriptions you can reach with this account. Open one to browse its resource groups, virtual machines, disks, snapshots, images, galleries and scale sets."),
    table(
      ["Subscription name", "Subscription ID", "State"],
      subs.map((s) => [link(resourceHref(`/subscriptions/${s.subscriptionId}`), s.displayName), s.subscriptionId, s.state]),
      "Subscriptions",
    ),
  );
}

async function subscriptionBlade(sub) {
  const [groups, resources] = await Promise.all([
    list(`/subscriptions/${sub}/resourcegroups`, API.resourceGroups),
    list(`/subscriptions/${sub}/resources`, API.resources),
  ]);
  const count = (rg) => resources.filter((r) => parseId(r.id).resourceGroup?.toLowerCase() === rg.toLowerCase()).length;
  const el = main();
  el.replaceChildren(
    title("Subscription", h("span", { class: "subtitle" }, sub)),
    h("nav", { class: "toolbar", "aria-label": "Subscription commands" }, link(`#/create-vm?sub=${sub}`, "Create a virtual machine", { class: "button" }), link(`#/activity/${sub}`, "Activity log", { class: "button secondary" }), link(`#/conflicts/${sub}`, "Identity conflicts", { class: "button secondary" })),
    h("h2", {}, "Resource groups"),
    table(["Name", "Location", "Resources"], groups.map((g) => [link(resourceHref(g.id), g.name), g.location, String(count(g.name))]), "Resource groups"),
    h("h2", {}, "Resources by type"),
    byType(resources),
    h("h2", {}, "Policy assignments"),
    await policyAssignments(`/subscriptions/${sub}`),
  );
}

function byType(resources) {
  const shown = resources.filter((r) => TYPE_NAMES[r.type.toLowerCase()]);
  return table(
    ["Name", "Type", "Resource group", "Location"],
    shown.map((r) => [link(resourceHref(r.id), r.name), typeName(r.type), parseId(r.id).resourceGroup || "", r.location || ""]),
    "Resources",
  );
}

async function policyAssignments(scope) {
  try {
    const items = await list(`${scope}/providers/Microsoft.Authorization/policyAssignments`, API.policy);
    return table(
      ["Name", "Display name", "Enforcement", "Scope"],
      items.map((a) => [a.name, a.properties?.displayName || "", a.properties?.enforcementMode || "Default", a.properties?.scope || scope]),
      "Policy assignments",
    );
  } catch (err) {
    return h("p", { class: "muted" }, `Policy assignments are not available here: ${err instanceof ArmError ? err.describe() : err.message}`);
  }
}

async function groupBlade(id) {
  const p = parseId(id);
  const [group, resources] = await Promise.all([get(id, API.resourceGroups), list(`${id}/resources`, API.resources)]);
  main().replaceChildren(
    title(group.name, h("span", { class: "subtitle" }, "Resource group")),
    h("nav", { class: "toolbar", "aria-label": "Resource group commands" }, link(`#/create-vm?sub=${p.subscription}&rg=${encodeURIComponent(group.name)}`, "Create a virtual machine", { class: "button" })),
    kv([
      ["Subscription", link(resourceHref(`/subscriptions/${p.subscription}`), p.subscription)],
      ["Location", group.location],
      ["Provisioning state", group.properties?.provisioningState],
    ]),
    h("h2", {}, "Resources"),
    byType(resources),
    h("h2", {}, "Policy assignments"),
    await policyAssignments(id),
  );
}

// any other resource: its essentials and its JSON --------------------------------------------------------
export async function genericBlade(id, type) {
  const doc = await get(id, apiFor(type));
  const p = parseId(id);
  const props = doc.properties || {};
  const extra = [];
  if (type.toLowerCase() === "microsoft.compute/virtualmachinescalesets") {
    const vms = await list(`${id}/virtualMachines`, API.compute).catch(() => []);
    extra.push(h("h2", {}, "Instances"), table(["Name", "Provisioning state"], vms.map((v) => [v.name, v.properties?.provisioningState || ""]), "Instances"));
  }
  main().replaceChildren(
    title(doc.name, h("span", { class: "subtitle" }, typeName(doc.type))),
    kv([
      ["Resource group", p.resourceGroup ? link(resourceHref(`/subscriptions/${p.subscription}/resourceGroups/${p.resourceGroup}`), p.resourceGroup) : "—"],
      ["Location", doc.location],
      ["Provisioning state", props.provisioningState],
      ["SKU", doc.sku ? doc.sku.name : undefined],
      ["OS type", props.osType || props.storageProfile?.osDisk?.osType],
      ["Size (GiB)", props.diskSizeGB !== undefined ? String(props.diskSizeGB) : undefined],
      ["Disk state", props.diskState],
      ["Source", props.creationData?.sourceResourceId || props.sourceVirtualMachine?.id],
    ]),
    ...extra,
    h("h2", {}, "JSON view"),
    h("pre", { class: "json", tabindex: "0" }, JSON.stringify(doc, null, 2)),
  );
}

// search ---------------------------------------------------------------------------------------------------
async function search(q) {
  const subs = await list("/subscriptions", API.subscriptions);
  const needle = q.toLowerCase();
  const found = [];
  for (const s of subs) {
    const [groups, resources] = await Promise.all([
      list(`/subscriptions/${s.subscriptionId}/resourcegroups`, API.resourceGroups),
      list(`/subscriptions/${s.subscriptionId}/resources`, API.resources),
    ]);
    for (const g of groups) if (g.name.toLowerCase().includes(needle)) found.push([link(resourceHref(g.id), g.name), "Resource group", s.displayName]);
    for (const r of resources) {
      if (r.name.toLowerCase().includes(needle) || typeName(r.type).toLowerCase().includes(needle)) {
        found.push([link(resourceHref(r.id), r.name), typeName(r.type), s.displayName]);
      }
    }
  }
  main().replaceChildren(title(`Search results for “${q}”`), table(["Name", "Type", "Subscription"], found, "Search results"));
}

// the activity log -----------------------------------------------------------------------------------------
async function activityBlade(sub) {
  const since = new Date(Date.now() - 7 * 24 * 3600 * 1000).toISOString();
  const events = await list(`/subscriptions/${sub}/providers/Microsoft.Insights/eventtypes/management/values`, API.insights, {
    $filter: `eventTimestamp ge '${since}'`,
  });
  const rows = events.map((e) => {
    let message = "";
    try {
      const err = JSON.parse(e.properties?.statusMessage || "{}").error;
      if (err) message = `${err.code}: ${err.message}`;
    } catch {
      message = e.properties?.statusMessage || "";
    }
    return [
      h("span", { class: `status ${String(e.status?.value).toLowerCase()}` }, e.status?.value || ""),
      e.operationName?.localizedValue || "",
      link(resourceHref(e.resourceId), parseId(e.resourceId).name || e.resourceId),
      new Date(e.eventTimestamp).toLocaleString(),
      e.caller || "",
      message || e.description || "",
    ];
  });
  main().replaceChildren(
    title("Activity log", h("span", { class: "subtitle" }, sub)),
    h("p", {}, "Failed requests and operations are shown with the error Azure returned; autoscale and scale-set events too. Last 7 days."),
    table(["Status", "Operation", "Resource", "Time", "Event initiated by", "Error"], rows, "Activity log events"),
  );
}

// identity conflicts (azemu's own facility: GET /_azemu/identity-conflicts) -------------------------------
async function conflictsBlade(sub) {
  const data = await get("/_azemu/identity-conflicts");
  const groups = (data.value || []).filter((g) => !sub || g.virtualMachines.some((v) => parseId(v).subscription?.toLowerCase() === sub.toLowerCase()));
  const labels = { sid: "Machine SID", machineId: "machine-id", sshHostKey: "SSH host key", computerName: "Computer name" };
  main().replaceChildren(
    title("Identity conflicts"),
    groups.length
      ? banner("warning", `${groups.length} identity value(s) are shared by more than one VM: a source image was captured without Sysprep or deprovisioning (or is specialized).`)
      : banner("info", "No two VMs share a SID, machine-id, SSH host key or computer name."),
    table(
      ["Shared", "Value", "Virtual machines"],
      groups.map((g) => [labels[g.kind] || g.kind, h("code", {}, g.value.length > 60 ? g.value.slice(0, 60) + "…" : g.value), h("ul", {}, g.virtualMachines.map((v) => h("li", {}, link(resourceHref(v), parseId(v).name))))]),
      "Identity conflicts",
    ),
  );
}

// routing --------------------------------------------------------------------------------------------------
async function route() {
  if (stopCurrent) stopCurrent();
  stopCurrent = null;
  const hash = decodeURIComponent(location.hash.slice(1) || "/");
  const [path, qs] = hash.split("?");
  const q = new URLSearchParams(qs || "");
  const el = main();
  el.replaceChildren(h("p", { class: "loading", role: "status" }, "Loading…"));
  try {
    if (path === "/" || path === "") return await home();
    if (path.startsWith("/search")) return await search(q.get("q") || "");
    if (path.startsWith("/activity/")) return await activityBlade(path.split("/")[2]);
    if (path.startsWith("/conflicts")) return await conflictsBlade(path.split("/")[2]);
    if (path.startsWith("/create-vm")) return await createVmBlade(q.get("sub"), q.get("rg"));
    if (path.startsWith("/labs")) return await labsBlade(path.slice("/labs".length));
    if (path.startsWith("/capture/")) return await captureBlade(path.slice("/capture".length));
    if (path.startsWith("/console/")) return await consoleBlade(path.slice("/console".length));
    if (path.startsWith("/resource/")) {
      const id = path.slice("/resource".length);
      const p = parseId(id);
      const t = p.type.toLowerCase();
      if (t === "subscriptions") return await subscriptionBlade(p.subscription);
      if (t === "resourcegroups") return await groupBlade(id);
      if (t === "microsoft.compute/virtualmachines") return await vmBlade(id);
      if (t === "microsoft.compute/galleries") return await galleryBlade(id);
      if (t === "microsoft.compute/galleries/images") return await definitionBlade(id);
      if (t === "microsoft.compute/galleries/images/versions") return await versionBlade(id);
      return await genericBlade(id, p.type);
    }
    el.replaceChildren(title("Not found"), banner("error", `The portal has no page '${path}'.`));
  } catch (err) {
    el.replaceChildren(title("Something went wrong"), showError(err));
  }
}

export function go(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

async function start() {
  const status = document.getElementById("signin-status");
  try {
    await completeSignIn();
  } catch (err) {
    notify("Sign-in failed", "error", String(err.message || err));
  }
  if (!(await token())) {
    document.body.classList.add("signed-out");
    main().replaceChildren(
      title("Welcome to azemu"),
      h("p", {}, "A local emulator of Azure's VM image lifecycle. Sign in with azemu's Entra ID to browse and manage your resources; everything you do here goes through the same Azure Resource Manager API the az CLI uses."),
      h("button", { id: "signin", type: "button", onclick: () => signIn() }, "Sign in"),
    );
    status.replaceChildren();
    return;
  }
  const who = account();
  status.replaceChildren(h("span", { class: "who" }, who?.preferred_username || who?.upn || "signed in"), h("button", { type: "button", class: "secondary", onclick: signOut }, "Sign out"));
  document.getElementById("search-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const q = document.getElementById("search").value.trim();
    if (q) go(`#/search?q=${encodeURIComponent(q)}`);
  });
  window.addEventListener("hashchange", route);
  route();
}

start();
