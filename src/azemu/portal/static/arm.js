// Azure Resource Manager, as the az CLI calls it: the same requests, the same bearer token, the same errors.
import { token } from "./auth.js";

export const API = {
  subscriptions: "2022-12-01",
  resourceGroups: "2021-04-01",
  resources: "2021-04-01",
  deployments: "2024-11-01",
  compute: "2024-11-01",
  disks: "2023-04-02",
  gallery: "2024-03-03",
  network: "2024-05-01",
  insights: "2015-04-01",
  policy: "2023-04-01",
  serialConsole: "2018-05-01",
};

export class ArmError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details || [];
  }
  // "Code: message", as Azure's notifications show it (details of a DeploymentFailed included)
  describe() {
    const inner = this.details.map((d) => `${d.code}: ${d.message}`).join(" ");
    return `${this.code}: ${this.message}${inner ? " " + inner : ""}`;
  }
}

function errorOf(status, body) {
  const e = (body && body.error) || {};
  return new ArmError(status, e.code || `HTTP ${status}`, e.message || "The request failed.", e.details);
}

export async function arm(method, path, { body, api, query } = {}) {
  const bearer = await token();
  const url = new URL(path, location.origin);
  if (api) url.searchParams.set("api-version", api);
  for (const [k, v] of Object.entries(query || {})) url.searchParams.set(k, v);
  const headers = { Authorization: `Bearer ${bearer}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const resp = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await resp.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = text;
  }
  if (!resp.ok) throw errorOf(resp.status, data);
  return { status: resp.status, data, headers: resp.headers };
}

export const get = (path, api, query) => arm("GET", path, { api, query }).then((r) => r.data);

export async function list(path, api, query) {
  const out = [];
  let data = await get(path, api, query);
  out.push(...((data && data.value) || []));
  while (data && data.nextLink) {
    const next = new URL(data.nextLink);
    data = await arm("GET", next.pathname + next.search).then((r) => r.data);
    out.push(...((data && data.value) || []));
  }
  return out;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Follow a long-running operation (Azure-AsyncOperation, else Location) to its end; throws its error.
export async function wait(resp, onProgress) {
  const async = resp.headers.get("Azure-AsyncOperation");
  const location = resp.headers.get("Location");
  if (!async && !location) return resp.data;
  for (;;) {
    const after = Number(resp.headers.get("Retry-After") || 1);
    await sleep(Math.min(Math.max(after, 0.2), 1) * 1000);
    const u = new URL(async || location);
    const r = await arm("GET", u.pathname + u.search);
    if (async) {
      const status = (r.data && r.data.status) || "InProgress";
      if (onProgress) onProgress(status);
      if (status === "Succeeded") return r.data;
      if (status === "Failed" || status === "Canceled") {
        throw errorOf(409, { error: (r.data && r.data.error) || { code: status, message: `The operation ${status.toLowerCase()}.` } });
      }
    } else if (r.status !== 202) {
      return r.data;
    }
  }
}

// A write, then its operation to the end.
export async function run(method, path, { body, api, onProgress } = {}) {
  const resp = await arm(method, path, { body, api });
  return wait(resp, onProgress);
}

export function parseId(id) {
  const parts = id.split("/").filter(Boolean);
  const out = { subscription: null, resourceGroup: null, namespace: null, types: [], names: [] };
  for (let i = 0; i < parts.length; i += 2) {
    const k = parts[i].toLowerCase();
    const v = parts[i + 1];
    if (k === "subscriptions") out.subscription = v;
    else if (k === "resourcegroups") out.resourceGroup = v;
    else if (k === "providers") {
      out.namespace = v;
      for (let j = i + 2; j < parts.length; j += 2) {
        out.types.push(parts[j]);
        out.names.push(parts[j + 1]);
      }
      break;
    }
  }
  out.type = out.namespace ? `${out.namespace}/${out.types.join("/")}` : out.resourceGroup ? "resourceGroups" : "subscriptions";
  out.name = out.names.length ? out.names[out.names.length - 1] : out.resourceGroup || out.subscription;
  return out;
}
