// The serial console: a terminal (xterm.js, vendored from npm) on a WebSocket to the VM's serial port.
// The WebSocket address comes from ARM (Microsoft.SerialConsole serialPorts/0/connect), and the WebSocket
// carries the user's ARM token (?authorization=), as Azure's serial console does.
import { API, arm, get } from "./arm.js";
import { token } from "./auth.js";
import { banner, h, link, resourceHref } from "./dom.js";
import { onLeave, showError, title } from "./app.js";
import { generalizedOf, powerOf } from "./vm.js";

export async function consoleBlade(id) {
  const main = document.getElementById("main");
  const vm = await get(id, API.compute, { $expand: "instanceView" });
  let Terminal, FitAddon;
  try {
    ({ Terminal } = await import("./vendor/xterm.mjs"));
    ({ FitAddon } = await import("./vendor/addon-fit.mjs"));
  } catch {
    main.replaceChildren(title("Serial console", h("span", { class: "subtitle" }, vm.name)), banner("error", "The terminal library is not installed: run scripts/setup (it vendors @xterm/xterm from npm)."));
    return;
  }
  const state = h("span", { id: "console-vm-state" }, "");
  const conn = h("span", { id: "console-connection" }, "Connecting…");
  const screen = h("div", { id: "terminal", class: "terminal", role: "region", "aria-label": `Serial console of ${vm.name}` });
  main.replaceChildren(
    title("Serial console", h("span", { class: "subtitle" }, vm.name)),
    h("p", { class: "console-bar", "aria-live": "polite" }, link(resourceHref(vm.id), vm.name), " · VM: ", state, " · Connection: ", conn),
    h("p", { class: "hint" }, vm.properties.storageProfile.osDisk.osType === "Windows"
      ? "SAC: type 'cmd', then 'ch -si 1' and sign in; 'powershell' for PowerShell. Then e.g. C:\\Windows\\System32\\Sysprep\\sysprep.exe /generalize /oobe /shutdown"
      : "Log in with the VM's administrator account and password. Then e.g. sudo waagent -deprovision+user"),
    screen,
  );
  const term = new Terminal({ convertEol: false, cursorBlink: true, fontSize: 14, rows: 24, cols: 100, screenReaderMode: false, theme: { background: "#0c0c0c" } });
  const fit = new FitAddon();
  term.loadAddon(fit);
  term.open(screen);
  try {
    fit.fit();
  } catch {
    /* a hidden element cannot be measured */
  }
  const showState = async () => {
    try {
      const fresh = await get(id, API.compute, { $expand: "instanceView" });
      state.textContent = `${powerOf(fresh)}${generalizedOf(fresh) ? ", generalized" : ""}`;
    } catch (err) {
      state.textContent = err.status === 404 ? "deleted" : "unknown";
    }
  };
  await showState();
  const timer = setInterval(showState, 2000);
  let ws = null;
  onLeave(() => {
    clearInterval(timer);
    if (ws) ws.close();
    term.dispose();
  });
  try {
    const r = await arm("POST", `${vm.id}/providers/Microsoft.SerialConsole/serialPorts/0/connect`, { api: API.serialConsole });
    const bearer = await token();
    ws = new WebSocket(`${r.data.connectionString}?authorization=${encodeURIComponent(bearer)}`);
  } catch (err) {
    conn.textContent = "failed";
    main.append(showError(err));
    return;
  }
  ws.onopen = () => {
    conn.textContent = "connected";
    term.focus();
  };
  ws.onmessage = (ev) => term.write(ev.data);
  ws.onclose = () => {
    conn.textContent = "closed";
    term.write("\r\n\x1b[33m[The serial console connection closed]\x1b[0m\r\n");
    showState();
  };
  term.onData((data) => {
    if (ws && ws.readyState === WebSocket.OPEN) ws.send(data);
  });
}
