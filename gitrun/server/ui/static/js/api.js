// The UI's JSON API (docs/ui.md); errors carry the server's message (and a filter's position).

export class ApiError extends Error {
  constructor(message, status, position) {
    super(message);
    this.status = status;
    this.position = position;
  }
}

export const state = { config: null };

function url(path, params) {
  const query = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) {
    if (v === undefined || v === null || v === "") continue;
    if (Array.isArray(v)) v.forEach((item) => query.append(k, item));
    else query.set(k, v);
  }
  const text = query.toString();
  return `/api/ui${path}${text ? "?" + text : ""}`;
}

export function apiUrl(path, params) {
  return url(path, params);
}

async function parse(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    throw new ApiError(`${response.status} ${response.statusText}`, response.status);
  }
  if (!response.ok) throw new ApiError(body.message || response.statusText, response.status, body.position);
  return body;
}

export async function get(path, params) {
  return parse(await fetch(url(path, params), { headers: { accept: "application/json" } }));
}

export async function post(path, body) {
  const response = await fetch(url(path), {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-gitrun-csrf": state.config ? state.config.csrf_token : "",
    },
    body: JSON.stringify(body || {}),
  });
  return parse(response);
}
