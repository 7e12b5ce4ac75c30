// Virtual machines: the VM blade (overview and commands), Create a virtual machine, and Capture.
import { API, ArmError, arm, get, list, parseId, run, wait } from "./arm.js";
import { banner, field, h, kv, link, notify, resourceHref, table } from "./dom.js";
import { go, onLeave, showError, title } from "./app.js";

const status = (iv, prefix) => (iv?.statuses || []).find((s) => s.code?.startsWith(prefix));

export function powerOf(vm) {
  const s = status(vm.properties?.instanceView, "PowerState/");
  return s ? s.code.split("/")[1] : "unknown";
}

export function generalizedOf(vm) {
  return status(vm.properties?.instanceView, "OSState/")?.code === "OSState/generalized";
}

async function action(vm, verb, label) {
  const note = notify(`${label} '${vm.name}'`, "running", "In progress…");
  try {
    await run("POST", `${vm.id}/${verb}`, { api: API.compute });
    note.update("success", `${label} '${vm.name}' succeeded.`);
  } catch (err) {
    note.update("error", err instanceof ArmError ? err.describe() : String(err));
  }
  go(location.hash);
}

export async function vmBlade(id) {
  const vm = await get(id, API.compute, { $expand: "instanceView" });
  const p = parseId(vm.id);
  const iv = vm.properties.instanceView || {};
  const power = powerOf(vm);
  const powerText = status(iv, "PowerState/")?.displayStatus || power;
  const generalized = generalizedOf(vm);
  const osType = vm.properties.storageProfile?.osDisk?.osType || "";
  const conflicts = (iv.statuses || []).filter((s) => s.code?.startsWith("AzEmu/IdentityConflict/"));
  let identity = null;
  try {
    identity = await get("/_azemu/guest/identity", undefined, { vm: vm.id });
  } catch {
    identity = null;
  }
  const transitional = ["starting", "stopping", "deallocating", "restarting"].includes(power) || vm.properties.provisioningState !== "Succeeded";
  if (transitional) {
    const timer = setTimeout(() => go(location.hash), 2000);
    onLeave(() => clearTimeout(timer));
  }
  const cmd = (label, verb, enabled = true) => h("button", { type: "button", disabled: !enabled, onclick: () => action(vm, verb, label) }, label);
  const output = h("pre", { class: "output", "aria-live": "polite", tabindex: "0" });
  const script = h("textarea", { rows: "4", spellcheck: "false" }, osType === "Windows" ? "hostname; whoami" : "hostname; cat /etc/os-release | head -2");
  const runIt = async () => {
    const note = notify(`Run command on '${vm.name}'`, "running", "In progress…");
    output.textContent = "Running…";
    try {
      const resp = await arm("POST", `${vm.id}/runCommand`, {
        api: API.compute,
        body: { commandId: osType === "Windows" ? "RunPowerShellScript" : "RunShellScript", script: script.value.split("\n") },
      });
      const done = await wait(resp);
      const value = done?.properties?.output?.value || done?.value || [];
      output.textContent = value.map((v) => v.message).join("\n");
      note.update("success", "Run command succeeded.");
    } catch (err) {
      output.textContent = err instanceof ArmError ? err.describe() : String(err);
      note.update("error", output.textContent);
    }
  };
  const del = async () => {
    if (!confirm(`Delete virtual machine '${vm.name}'?`)) return;
    const note = notify(`Delete '${vm.name}'`, "running", "In progress…");
    try {
      await run("DELETE", vm.id, { api: API.compute });
      note.update("success", `Deleted '${vm.name}'.`);
      go(resourceHref(`/subscriptions/${p.subscription}/resourceGroups/${p.resourceGroup}`));
    } catch (err) {
      note.update("error", err instanceof ArmError ? err.describe() : String(err));
    }
  };
  const running = power === "running";
  document.getElementById("main").replaceChildren(
    title(vm.name, h("span", { class: "subtitle" }, "Virtual machine")),
    h(
      "nav",
      { class: "toolbar", "aria-label": "Virtual machine commands" },
      cmd("Start", "start", !running && !generalized),
      cmd("Restart", "restart", running),
      cmd("Stop", "powerOff", running),
      cmd("Deallocate", "deallocate", power !== "deallocated"),
      cmd("Generalize", "generalize", !generalized),
      link(`#/capture${vm.id}`, "Capture", { class: "button", id: "capture" }),
      link(`#/console${vm.id}`, "Serial console", { class: "button secondary", id: "serial-console" }),
      h("button", { type: "button", class: "danger", onclick: del }, "Delete"),
      h("button", { type: "button", class: "secondary", onclick: () => go(location.hash) }, "Refresh"),
    ),
    conflicts.map((c) => banner("warning", h("strong", {}, `${c.displayStatus}: `), c.message)),
    h("h2", {}, "Essentials"),
    kv([
      ["Resource group", link(resourceHref(`/subscriptions/${p.subscription}/resourceGroups/${p.resourceGroup}`), p.resourceGroup)],
      ["Status", h("span", { id: "power-state" }, powerText)],
      ["Operating system state", h("span", { id: "os-state" }, generalized ? "Generalized" : "Specialized (not marked generalized)")],
      ["Location", vm.location],
      ["Size", vm.properties.hardwareProfile?.vmSize],
      ["Operating system", osType],
      ["Computer name", iv.computerName || vm.properties.osProfile?.computerName],
      ["VM generation", vm.properties.instanceView?.hyperVGeneration || vm.properties.hyperVGeneration],
      ["Provisioning state", vm.properties.provisioningState],
    ]),
    h("h2", {}, "Identity inside the guest"),
    identity
      ? kv([
          ["Computer name (guest)", identity.computerName],
          ["Machine SID", identity.sid],
          ["machine-id", identity.machineId],
          ["SSH host keys", (identity.sshHostKeys || []).length ? h("ul", {}, identity.sshHostKeys.map((k) => h("li", {}, h("code", {}, String(k).slice(0, 48) + "…")))) : "none"],
          ["Users", (identity.users || []).join(", ")],
        ])
      : h("p", { class: "muted" }, "The guest's identity is not readable now."),
    h("h2", {}, "Run command"),
    field(osType === "Windows" ? "PowerShell script (RunPowerShellScript)" : "Shell script (RunShellScript)", script),
    h("button", { type: "button", onclick: runIt }, "Run"),
    output,
  );
}

// Create a virtual machine: a template deployment, as the portal's "Review + create" submits one ----------
const IMAGES = {
  "Ubuntu Server 22.04 LTS - x64 Gen2": { publisher: "Canonical", offer: "0001-com-ubuntu-server-jammy", sku: "22_04-lts-gen2", version: "latest", os: "Linux" },
  "Debian 12 \"Bookworm\" - x64 Gen2": { publisher: "Debian", offer: "debian-12", sku: "12-gen2", version: "latest", os: "Linux" },
  "Windows Server 2022 Datacenter - x64 Gen2": { publisher: "MicrosoftWindowsServer", offer: "WindowsServer", sku: "2022-datacenter-g2", version: "latest", os: "Windows" },
  "Windows Server 2019 Datacenter - x64 Gen2": { publisher: "MicrosoftWindowsServer", offer: "WindowsServer", sku: "2019-datacenter-gensecond", version: "latest", os: "Windows" },
};

function vmTemplate(name, location, image, size, user, password) {
  const img = IMAGES[image];
  const vnet = `${name}-vnet`;
  const nic = `${name}-nic`;
  const os = img.os === "Windows" ? { provisionVMAgent: true } : { disablePasswordAuthentication: false, provisionVMAgent: true };
  return {
    $schema: "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
    contentVersion: "1.0.0.0",
    resources: [
      {
        type: "Microsoft.Network/virtualNetworks",
        apiVersion: "2024-05-01",
        name: vnet,
        location,
        properties: { addressSpace: { addressPrefixes: ["10.0.0.0/16"] }, subnets: [{ name: "default", properties: { addressPrefix: "10.0.0.0/24" } }] },
      },
      {
        type: "Microsoft.Network/networkInterfaces",
        apiVersion: "2024-05-01",
        name: nic,
        location,
        dependsOn: [`[resourceId('Microsoft.Network/virtualNetworks', '${vnet}')]`],
        properties: {
          ipConfigurations: [{ name: "ipconfig1", properties: { privateIPAllocationMethod: "Dynamic", subnet: { id: `[resourceId('Microsoft.Network/virtualNetworks/subnets', '${vnet}', 'default')]` } } }],
        },
      },
      {
        type: "Microsoft.Compute/virtualMachines",
        apiVersion: "2024-11-01",
        name,
        location,
        dependsOn: [`[resourceId('Microsoft.Network/networkInterfaces', '${nic}')]`],
        properties: {
          hardwareProfile: { vmSize: size },
          storageProfile: {
            imageReference: { publisher: img.publisher, offer: img.offer, sku: img.sku, version: img.version },
            osDisk: { createOption: "FromImage", deleteOption: "Delete", managedDisk: { storageAccountType: "StandardSSD_LRS" } },
          },
          osProfile: {
            computerName: name.slice(0, img.os === "Windows" ? 15 : 64),
            adminUsername: user,
            adminPassword: password,
            ...(img.os === "Windows" ? { windowsConfiguration: os } : { linuxConfiguration: os }),
          },
          networkProfile: { networkInterfaces: [{ id: `[resourceId('Microsoft.Network/networkInterfaces', '${nic}')]`, properties: { deleteOption: "Delete" } }] },
          diagnosticsProfile: { bootDiagnostics: { enabled: true } },
        },
      },
    ],
  };
}

export async function createVmBlade(sub, rg) {
  const subs = await list("/subscriptions", API.subscriptions);
  sub = sub || subs[0]?.subscriptionId;
  const groups = await list(`/subscriptions/${sub}/resourcegroups`, API.resourceGroups);
  const locations = await list(`/subscriptions/${sub}/locations`, API.subscriptions).catch(() => []);
  const rgSelect = h("select", { id: "vm-rg" }, groups.map((g) => h("option", { value: g.name, selected: rg && g.name.toLowerCase() === rg.toLowerCase() }, g.name)));
  const newRg = h("input", { id: "vm-new-rg", type: "text", placeholder: "or a new resource group name" });
  const name = h("input", { id: "vm-name", type: "text", required: true, value: "myVM" });
  const region = h("select", { id: "vm-region" }, (locations.length ? locations.map((l) => l.name) : ["eastus"]).map((l) => h("option", { value: l, selected: l === "eastus" }, l)));
  const image = h("select", { id: "vm-image" }, Object.keys(IMAGES).map((k) => h("option", { value: k }, k)));
  const size = h("select", { id: "vm-size" }, ["Standard_B2s", "Standard_D2s_v3", "Standard_DS1_v2"].map((s) => h("option", { value: s }, s)));
  const user = h("input", { id: "vm-user", type: "text", value: "azureuser", autocomplete: "username" });
  const password = h("input", { id: "vm-password", type: "password", autocomplete: "new-password" });
  const result = h("div", { "aria-live": "polite" });
  const submit = async (ev) => {
    ev.preventDefault();
    const group = newRg.value.trim() || rgSelect.value;
    if (!group || !name.value.trim() || !password.value) {
      result.replaceChildren(banner("error", "Resource group, virtual machine name and password are required."));
      return;
    }
    const note = notify(`Deploying '${name.value}'`, "running", "Deployment is in progress…");
    result.replaceChildren(banner("info", "Deployment is in progress…"));
    try {
      const groupId = `/subscriptions/${sub}/resourceGroups/${group}`;
      if (newRg.value.trim()) await arm("PUT", groupId, { api: API.resourceGroups, body: { location: region.value } });
      const deployment = `CreateVm-${name.value}-${Date.now()}`;
      await run("PUT", `${groupId}/providers/Microsoft.Resources/deployments/${deployment}`, {
        api: API.deployments,
        body: { properties: { mode: "Incremental", template: vmTemplate(name.value.trim(), region.value, image.value, size.value, user.value.trim(), password.value) } },
      });
      const d = await get(`${groupId}/providers/Microsoft.Resources/deployments/${deployment}`, API.deployments);
      if (d.properties?.provisioningState !== "Succeeded") {
        const e = d.properties?.error || {};
        throw new ArmError(409, e.code || "DeploymentFailed", e.message || "The deployment failed.", e.details);
      }
      note.update("success", `Deployment succeeded: '${name.value}' is running.`);
      go(resourceHref(`${groupId}/providers/Microsoft.Compute/virtualMachines/${name.value.trim()}`));
    } catch (err) {
      const text = err instanceof ArmError ? err.describe() : String(err);
      note.update("error", text);
      result.replaceChildren(banner("error", text));
    }
  };
  document.getElementById("main").replaceChildren(
    title("Create a virtual machine"),
    h("p", {}, "Submitted as a template deployment (virtual network, network interface, virtual machine), as the Azure portal submits one. The password is for the serial console's login too."),
    h(
      "form",
      { onsubmit: submit, class: "form" },
      h("h2", {}, "Project details"),
      field("Subscription", h("input", { type: "text", value: sub, readonly: true })),
      field("Resource group", rgSelect),
      field("New resource group", newRg, "Leave empty to use the one selected above."),
      h("h2", {}, "Instance details"),
      field("Virtual machine name", name),
      field("Region", region),
      field("Image", image),
      field("Size", size),
      h("h2", {}, "Administrator account"),
      field("Username", user),
      field("Password", password),
      h("button", { type: "submit", id: "create-vm" }, "Review + create"),
    ),
    result,
  );
}

// Capture: "Create an image" -------------------------------------------------------------------------------
export async function captureBlade(id) {
  const vm = await get(id, API.compute, { $expand: "instanceView" });
  const p = parseId(vm.id);
  const rgId = (rg) => `/subscriptions/${p.subscription}/resourceGroups/${rg}`;
  const groups = await list(`/subscriptions/${p.subscription}/resourcegroups`, API.resourceGroups);
  const power = powerOf(vm);
  const generalized = generalizedOf(vm);
  const osType = vm.properties.storageProfile.osDisk.osType;
  const generation = vm.properties.instanceView?.hyperVGeneration || vm.properties.hyperVGeneration || "V1";
  const stamp = new Date().toISOString().replace(/[-:T]/g, "").slice(0, 14);

  const rg = h("select", { id: "cap-rg" }, groups.map((g) => h("option", { value: g.name, selected: g.name.toLowerCase() === p.resourceGroup.toLowerCase() }, g.name)));
  const shareYes = h("input", { type: "radio", name: "share", id: "share-yes", value: "yes", checked: true });
  const shareNo = h("input", { type: "radio", name: "share", id: "share-no", value: "no" });
  const autoDelete = h("input", { type: "checkbox", id: "auto-delete" });
  const imageName = h("input", { type: "text", id: "image-name", value: `${vm.name}-image-${stamp}` });
  const zoneResilient = h("input", { type: "checkbox", id: "zone-resilient" });
  const gallerySelect = h("select", { id: "gallery" });
  const newGallery = h("input", { type: "text", id: "new-gallery", placeholder: "or a new gallery name" });
  const stateGen = h("input", { type: "radio", name: "osstate", id: "state-generalized", value: "Generalized", checked: generalized });
  const stateSpec = h("input", { type: "radio", name: "osstate", id: "state-specialized", value: "Specialized", checked: !generalized });
  const defSelect = h("select", { id: "definition" });
  const newDef = h("input", { type: "text", id: "new-definition", placeholder: "or a new definition name" });
  const publisher = h("input", { type: "text", id: "def-publisher", value: "MyPublisher" });
  const offer = h("input", { type: "text", id: "def-offer", value: "MyOffer" });
  const sku = h("input", { type: "text", id: "def-sku", value: `${vm.name}-sku` });
  const version = h("input", { type: "text", id: "version", value: "1.0.0" });
  const excludeLatest = h("input", { type: "checkbox", id: "exclude-latest" });
  const endOfLife = h("input", { type: "date", id: "end-of-life" });
  const replicaCount = h("input", { type: "number", id: "replica-count", min: "1", max: "100", value: "1" });
  const storage = h("select", { id: "storage-sku" }, ["Standard_LRS", "Standard_ZRS", "Premium_LRS"].map((s) => h("option", { value: s }, s)));
  const regionsBody = h("tbody");
  const locations = (await list(`/subscriptions/${p.subscription}/locations`, API.subscriptions).catch(() => [])).map((l) => l.name);
  const addRegion = (name = "", count = 1) => {
    const idx = regionsBody.children.length + 1;
    const sel = h("select", { "aria-label": `Target region ${idx}`, class: "region-name" }, (locations.length ? locations : [vm.location]).map((l) => h("option", { value: l, selected: l === name }, l)));
    const cnt = h("input", { type: "number", min: "1", max: "100", value: String(count), "aria-label": `Replica count for target region ${idx}`, class: "region-count" });
    const row = h("tr", {}, h("td", {}, sel), h("td", {}, cnt), h("td", {}, h("button", { type: "button", class: "secondary", onclick: () => row.remove(), disabled: idx === 1 }, "Remove")));
    regionsBody.append(row);
  };
  addRegion(vm.location, 1);

  const fillGalleries = async () => {
    const items = await list(`${rgId(rg.value)}/providers/Microsoft.Compute/galleries`, API.gallery).catch(() => []);
    gallerySelect.replaceChildren(h("option", { value: "" }, "(create new)"), ...items.map((g) => h("option", { value: g.name }, g.name)));
    await fillDefinitions();
  };
  const fillDefinitions = async () => {
    const g = gallerySelect.value;
    const items = g ? await list(`${rgId(rg.value)}/providers/Microsoft.Compute/galleries/${g}/images`, API.gallery).catch(() => []) : [];
    defSelect.replaceChildren(
      h("option", { value: "" }, "(create new)"),
      ...items.filter((d) => d.properties.osType === osType).map((d) => h("option", { value: d.name }, `${d.name} (${d.properties.osState}, ${d.properties.hyperVGeneration || "V1"})`)),
    );
  };
  rg.addEventListener("change", fillGalleries);
  gallerySelect.addEventListener("change", fillDefinitions);
  await fillGalleries();

  const refusal = () => {
    // What the blade refuses, in the words Azure uses for the same request
    if (["running", "starting", "restarting"].includes(power)) {
      return `Operation 'generalize' is not allowed on VM '${vm.name}' since the VM is running. Please power off explicitly in case you shut down the VM from inside the guest operating system.`;
    }
    const wantsGeneralized = shareNo.checked || stateGen.checked;
    if (wantsGeneralized && !generalized) return `The operation 'Create Image' requires the Virtual Machine '${vm.name}' to be Generalized.`;
    return "";
  };
  const refusalBox = h("div", { id: "capture-refusal" });
  const createBtn = h("button", { type: "submit", id: "create-image" }, "Create");
  const galleryPart = h(
    "fieldset",
    { id: "gallery-details" },
    h("legend", {}, "Gallery details"),
    field("Target Azure compute gallery", gallerySelect),
    field("New gallery name", newGallery, "Used when '(create new)' is selected."),
    h("fieldset", { class: "radios" }, h("legend", {}, "Operating system state"), h("label", {}, stateGen, " Generalized"), h("label", {}, stateSpec, " Specialized")),
    h("h3", {}, "Target VM image definition"),
    field("VM image definition", defSelect),
    field("New definition name", newDef, "Used when '(create new)' is selected."),
    field("Publisher", publisher),
    field("Offer", offer),
    field("SKU", sku),
    h("h3", {}, "Version details"),
    field("Version number", version, "Major(int).Minor(int).Patch(int), e.g. 1.0.0"),
    h("div", { class: "check" }, excludeLatest, h("label", { for: "exclude-latest" }, "Exclude from latest")),
    field("End of life date", endOfLife),
    h("h3", {}, "Replication"),
    field("Default replica count", replicaCount),
    h("table", { class: "regions" }, h("caption", {}, "Target regions"), h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Region"), h("th", { scope: "col" }, "Replicas"), h("th", { scope: "col" }, h("span", { class: "sr-only" }, "Remove")))), regionsBody),
    h("button", { type: "button", class: "secondary", id: "add-region", onclick: () => addRegion("", Number(replicaCount.value) || 1) }, "Add a region"),
    field("Storage SKU", storage),
  );
  const imagePart = h("fieldset", { id: "image-details" }, h("legend", {}, "Managed image details"), field("Name", imageName), h("div", { class: "check" }, zoneResilient, h("label", { for: "zone-resilient" }, "Zone resiliency")));
  const sync = () => {
    galleryPart.hidden = !shareYes.checked;
    imagePart.hidden = shareYes.checked;
    const why = refusal();
    refusalBox.replaceChildren(why ? banner("error", why) : "");
    createBtn.disabled = !!why;
  };
  for (const el of [shareYes, shareNo, stateGen, stateSpec]) el.addEventListener("change", sync);

  const progress = h("div", { "aria-live": "polite", id: "capture-progress" });
  const step = (text) => progress.append(h("p", {}, text));
  const submit = async (ev) => {
    ev.preventDefault();
    if (refusal()) return sync();
    createBtn.disabled = true;
    progress.replaceChildren();
    const group = rgId(rg.value);
    const note = notify(`Capturing '${vm.name}'`, "running", "In progress…");
    try {
      let target;
      if (shareYes.checked) {
        const galleryName = gallerySelect.value || newGallery.value.trim();
        const defName = defSelect.value || newDef.value.trim();
        if (!galleryName || !defName) throw new Error("A gallery and an image definition (existing or new) are required.");
        const galleryId = `${group}/providers/Microsoft.Compute/galleries/${galleryName}`;
        if (!gallerySelect.value) {
          step(`Creating gallery '${galleryName}'…`);
          await run("PUT", galleryId, { api: API.gallery, body: { location: vm.location, properties: {} } });
        }
        const defId = `${galleryId}/images/${defName}`;
        if (!defSelect.value) {
          step(`Creating image definition '${defName}'…`);
          await run("PUT", defId, {
            api: API.gallery,
            body: {
              location: vm.location,
              properties: {
                osType,
                osState: stateGen.checked ? "Generalized" : "Specialized",
                hyperVGeneration: generation,
                identifier: { publisher: publisher.value.trim(), offer: offer.value.trim(), sku: sku.value.trim() },
              },
            },
          });
        }
        const regions = [...regionsBody.querySelectorAll("tr")].map((tr) => ({
          name: tr.querySelector(".region-name").value,
          regionalReplicaCount: Number(tr.querySelector(".region-count").value) || 1,
          storageAccountType: storage.value,
        }));
        const publishing = { targetRegions: regions, replicaCount: Number(replicaCount.value) || 1, excludeFromLatest: excludeLatest.checked, storageAccountType: storage.value };
        if (endOfLife.value) publishing.endOfLifeDate = new Date(endOfLife.value).toISOString();
        target = `${defId}/versions/${version.value.trim()}`;
        step(`Creating image version '${version.value.trim()}' (replicating to ${regions.map((r) => r.name).join(", ")})…`);
        const resp = await arm("PUT", target, {
          api: API.gallery,
          body: { location: vm.location, properties: { publishingProfile: publishing, storageProfile: { source: { virtualMachineId: vm.id } } } },
        });
        sessionStorage.setItem("azemu.portal.capture", JSON.stringify({ version: target, vm: autoDelete.checked ? vm.id : null }));
        // the version blade shows replication live; the VM goes once the version has succeeded
        go(resourceHref(target));
        await wait(resp);
      } else {
        target = `${group}/providers/Microsoft.Compute/images/${imageName.value.trim()}`;
        step(`Creating image '${imageName.value.trim()}'…`);
        await run("PUT", target, {
          api: API.compute,
          body: { location: vm.location, properties: { sourceVirtualMachine: { id: vm.id }, hyperVGeneration: generation, storageProfile: { zoneResilient: zoneResilient.checked } } },
        });
      }
      if (autoDelete.checked) {
        step(`Deleting virtual machine '${vm.name}'…`);
        await run("DELETE", vm.id, { api: API.compute });
      }
      sessionStorage.removeItem("azemu.portal.capture");
      note.update("success", `Created '${parseId(target).name}'${autoDelete.checked ? ` and deleted '${vm.name}'` : ""}.`);
      if (!shareYes.checked) go(resourceHref(target));
      else go(location.hash);
    } catch (err) {
      const text = err instanceof ArmError ? err.describe() : String(err.message || err);
      note.update("error", text);
      progress.append(banner("error", text));
      createBtn.disabled = false;
    }
  };

  document.getElementById("main").replaceChildren(
    title("Create an image", h("span", { class: "subtitle" }, vm.name)),
    banner("info", "The portal does not run Sysprep or waagent: generalize the guest first (serial console or Run command), then deallocate and mark the VM generalized."),
    refusalBox,
    h(
      "form",
      { class: "form", onsubmit: submit },
      h("h2", {}, "Project details"),
      field("Subscription", h("input", { type: "text", value: p.subscription, readonly: true })),
      field("Resource group", rg),
      h("h2", {}, "Instance details"),
      h("fieldset", { class: "radios" }, h("legend", {}, "Share image to Azure compute gallery"), h("label", {}, shareYes, " Yes, share it to a gallery as a VM image version"), h("label", {}, shareNo, " No, capture only a managed image")),
      h(
        "div",
        { class: "check" },
        autoDelete,
        h("label", { for: "auto-delete" }, "Automatically delete this virtual machine after creating the image"),
      ),
      h("p", { class: "hint" }, "If you generalize the virtual machine, no further actions on it are allowed: a generalized virtual machine can't be started or modified. Select this to delete it once the image is created."),
      galleryPart,
      imagePart,
      createBtn,
    ),
    progress,
  );
  sync();
}
