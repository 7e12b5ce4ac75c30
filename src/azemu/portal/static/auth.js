// Sign-in through azemu's Entra ID: the authorization-code flow with PKCE (RFC 7636), as the Azure portal
// and MSAL.js do it. Tokens live in sessionStorage (this tab only) and are refreshed before they expire.
export const CLIENT_ID = "c44b4083-3bb0-49c1-b47d-974e53cbdf3c"; // the Azure portal's application id
const SCOPE = "https://management.azure.com/.default openid profile offline_access";
const KEY = "azemu.portal.session";
const PENDING = "azemu.portal.pkce";
const REDIRECT = `${location.origin}/portal/`;

function b64url(bytes) {
  let s = "";
  for (const b of new Uint8Array(bytes)) s += String.fromCharCode(b);
  return btoa(s).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function randomString(n) {
  const bytes = new Uint8Array(n);
  crypto.getRandomValues(bytes);
  return b64url(bytes);
}

function claimsOf(jwt) {
  try {
    const part = jwt.split(".")[1].replaceAll("-", "+").replaceAll("_", "/");
    return JSON.parse(decodeURIComponent(escape(atob(part))));
  } catch {
    return {};
  }
}

function load() {
  try {
    return JSON.parse(sessionStorage.getItem(KEY) || "null");
  } catch {
    return null;
  }
}

function save(tenant, body) {
  const session = {
    tenant,
    access: body.access_token,
    refresh: body.refresh_token || (load() || {}).refresh,
    expires: Date.now() + (Number(body.expires_in) || 3599) * 1000,
    account: claimsOf(body.id_token || body.access_token),
  };
  sessionStorage.setItem(KEY, JSON.stringify(session));
  return session;
}

export function account() {
  const s = load();
  return s ? { ...s.account, tenant: s.tenant } : null;
}

// Go to the sign-in page. The page comes back to /portal/?code=…&state=… (see completeSignIn).
export async function signIn(tenant = "organizations", loginHint = "") {
  const verifier = randomString(48);
  const challenge = b64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)));
  const state = randomString(16);
  sessionStorage.setItem(PENDING, JSON.stringify({ verifier, state, tenant, back: location.hash }));
  const q = new URLSearchParams({
    client_id: CLIENT_ID,
    response_type: "code",
    redirect_uri: REDIRECT,
    response_mode: "query",
    scope: SCOPE,
    state,
    code_challenge: challenge,
    code_challenge_method: "S256",
  });
  if (loginHint) q.set("login_hint", loginHint);
  location.assign(`/${encodeURIComponent(tenant)}/oauth2/v2.0/authorize?${q}`);
}

async function tokenRequest(tenant, form) {
  const resp = await fetch(`/${encodeURIComponent(tenant)}/oauth2/v2.0/token`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(form),
  });
  const body = await resp.json();
  if (!resp.ok) throw new Error(body.error_description || body.error || `sign-in failed (${resp.status})`);
  return body;
}

// Back from the sign-in page: redeem the code with the PKCE verifier. Returns true when signed in now.
export async function completeSignIn() {
  const params = new URLSearchParams(location.search);
  if (!params.has("code") && !params.has("error")) return false;
  const pending = JSON.parse(sessionStorage.getItem(PENDING) || "null");
  sessionStorage.removeItem(PENDING);
  history.replaceState(null, "", `/portal/${pending?.back || ""}`);
  if (params.has("error")) throw new Error(params.get("error_description") || params.get("error"));
  if (!pending || params.get("state") !== pending.state) throw new Error("The sign-in answer does not match the request (state).");
  const body = await tokenRequest(pending.tenant, {
    grant_type: "authorization_code",
    client_id: CLIENT_ID,
    code: params.get("code"),
    redirect_uri: REDIRECT,
    code_verifier: pending.verifier,
    scope: SCOPE,
  });
  save(pending.tenant, body);
  return true;
}

// A valid ARM access token (refreshed with the refresh token when it is about to expire), or null.
export async function token() {
  const s = load();
  if (!s) return null;
  if (s.expires - Date.now() > 120000) return s.access;
  if (!s.refresh) return null;
  try {
    const body = await tokenRequest(s.tenant, {
      grant_type: "refresh_token",
      client_id: CLIENT_ID,
      refresh_token: s.refresh,
      scope: SCOPE,
    });
    return save(s.tenant, body).access;
  } catch {
    sessionStorage.removeItem(KEY);
    return null;
  }
}

export function signOut() {
  sessionStorage.removeItem(KEY);
  location.assign("/portal/");
}
