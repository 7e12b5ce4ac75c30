// Azure Compute Gallery: gallery -> image definitions -> versions, and a version's replication, live.
import { API, get, list, parseId } from "./arm.js";
import { banner, h, kv, link, resourceHref, table } from "./dom.js";
import { go, onLeave, title } from "./app.js";

export async function galleryBlade(id) {
  const [g, defs] = await Promise.all([get(id, API.gallery), list(`${id}/images`, API.gallery)]);
  const p = parseId(id);
  document.getElementById("main").replaceChildren(
    title(g.name, h("span", { class: "subtitle" }, "Azure compute gallery")),
    kv([
      ["Resource group", link(resourceHref(`/subscriptions/${p.subscription}/resourceGroups/${p.resourceGroup}`), p.resourceGroup)],
      ["Location", g.location],
      ["Unique name", g.properties?.identifier?.uniqueName],
      ["Sharing", g.properties?.sharingProfile?.permissions || "Private"],
      ["Provisioning state", g.properties?.provisioningState],
    ]),
    h("h2", {}, "VM image definitions"),
    table(
      ["Name", "OS type", "OS state", "Generation", "Publisher / offer / SKU"],
      defs.map((d) => [link(resourceHref(d.id), d.name), d.properties.osType, d.properties.osState, d.properties.hyperVGeneration || "V1", `${d.properties.identifier.publisher} / ${d.properties.identifier.offer} / ${d.properties.identifier.sku}`]),
      "VM image definitions",
    ),
  );
}

export async function definitionBlade(id) {
  const [d, versions] = await Promise.all([get(id, API.gallery), list(`${id}/versions`, API.gallery)]);
  const p = parseId(id);
  const galleryId = id.split("/images/")[0];
  document.getElementById("main").replaceChildren(
    title(d.name, h("span", { class: "subtitle" }, "VM image definition")),
    kv([
      ["Gallery", link(resourceHref(galleryId), p.names[0])],
      ["OS type", d.properties.osType],
      ["OS state", d.properties.osState],
      ["VM generation", d.properties.hyperVGeneration || "V1"],
      ["Publisher", d.properties.identifier.publisher],
      ["Offer", d.properties.identifier.offer],
      ["SKU", d.properties.identifier.sku],
      ["End of life date", d.properties.endOfLifeDate],
    ]),
    h("h2", {}, "VM image versions"),
    table(
      ["Version", "Provisioning state", "Target regions", "Exclude from latest", "End of life date"],
      versions.map((v) => [
        link(resourceHref(v.id), v.name),
        v.properties.provisioningState,
        (v.properties.publishingProfile?.targetRegions || []).map((r) => `${r.name} (${r.regionalReplicaCount})`).join(", "),
        String(!!v.properties.publishingProfile?.excludeFromLatest),
        v.properties.publishingProfile?.endOfLifeDate || "",
      ]),
      "VM image versions",
    ),
  );
}

export async function versionBlade(id) {
  const v = await get(id, API.gallery, { $expand: "ReplicationStatus" });
  const p = parseId(id);
  const defId = id.split("/versions/")[0];
  const rs = v.properties.replicationStatus || { aggregatedState: "Unknown", summary: [] };
  const pub = v.properties.publishingProfile || {};
  const pending = JSON.parse(sessionStorage.getItem("azemu.portal.capture") || "null");
  const source = v.properties.storageProfile?.source || {};
  const sourceId = source.virtualMachineId || source.id || "";
  const done = ["Succeeded", "Failed"].includes(v.properties.provisioningState) && rs.aggregatedState !== "InProgress";
  if (!done) {
    const timer = setTimeout(() => go(location.hash), 1000);
    onLeave(() => clearTimeout(timer));
  }
  let sourceState = "";
  if (sourceId) {
    sourceState = await get(sourceId, sourceId.toLowerCase().includes("/virtualmachines/") ? API.compute : API.gallery)
      .then(() => "exists")
      .catch((err) => (err.status === 404 ? "deleted" : ""));
  }
  document.getElementById("main").replaceChildren(
    title(v.name, h("span", { class: "subtitle" }, "VM image version")),
    pending && pending.version.toLowerCase() === id.toLowerCase() && pending.vm
      ? banner("info", `The source virtual machine '${parseId(pending.vm).name}' is deleted once this version has been created ("Automatically delete this virtual machine after creating the image").`)
      : null,
    kv([
      ["Image definition", link(resourceHref(defId), p.names[1])],
      ["Provisioning state", h("span", { id: "version-state" }, v.properties.provisioningState)],
      ["Replication", h("span", { id: "replication-state" }, rs.aggregatedState)],
      ["Published date", pub.publishedDate],
      ["Exclude from latest", String(!!pub.excludeFromLatest)],
      ["End of life date", pub.endOfLifeDate],
      ["Source", sourceId ? h("span", {}, link(resourceHref(sourceId), parseId(sourceId).name), sourceState ? h("span", { id: "source-state" }, ` (${sourceState})`) : null) : "—"],
    ]),
    h("h2", {}, "Replication"),
    h(
      "table",
      { id: "replication" },
      h("caption", {}, "Replication per target region"),
      h("thead", {}, h("tr", {}, ["Region", "Replicas", "Storage", "State", "Progress"].map((c) => h("th", { scope: "col" }, c)))),
      h(
        "tbody",
        {},
        (pub.targetRegions || []).map((r) => {
          const s = (rs.summary || []).find((x) => x.region.toLowerCase() === r.name.toLowerCase()) || { state: "Unknown", progress: 0 };
          return h(
            "tr",
            { class: `replica ${String(s.state).toLowerCase()}` },
            h("td", {}, r.name),
            h("td", {}, String(r.regionalReplicaCount ?? pub.replicaCount ?? 1)),
            h("td", {}, r.storageAccountType || pub.storageAccountType || "Standard_LRS"),
            h("td", {}, s.state),
            h("td", {}, h("progress", { max: "100", value: String(s.progress ?? 0), "aria-label": `Replication to ${r.name}` }), ` ${s.progress ?? 0}%`, s.details ? h("span", { class: "muted" }, ` ${s.details}`) : null),
          );
        }),
      ),
    ),
  );
}
