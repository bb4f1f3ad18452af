// Typed client for the app's same-origin JSON API (see docs/CONTRACT.md and the server routes).

export interface Photo {
  thumbnailUrl: string;
}

export interface User {
  id: string;
  name: string;
  email: string;
  createdAt: string;
  photo: Photo | null;
}

export interface Meta {
  region: string;
  instance: string;
  mode: { database: string; cache: string; queue: string; files: string };
}

export interface PhotoUpload {
  key: string;
  upload: { method: "PUT"; url: string; headers: Record<string, string> };
}

/** Who answered one request, from the response headers the server sets on `GET /users/:id`. */
export interface ServedBy {
  region: string | null;
  instance: string | null;
  cache: string | null;
}

/** A non-2xx answer. 4xx bodies are `{error, message, field}`; anything else gets a generic message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code: string | null = null,
    readonly field: string | null = null,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** Sends one request (cookies included: same origin) and throws an ApiError on a non-2xx answer. */
async function request(method: string, path: string, body?: unknown): Promise<Response> {
  const response = await fetch(path, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw await toApiError(response);
  return response;
}

async function toApiError(response: Response): Promise<ApiError> {
  let payload: { error?: unknown; message?: unknown; field?: unknown } = {};
  try {
    payload = await response.json();
  } catch {
    // Proxies and load balancers answer 502/503 with HTML: fall through to the generic message.
  }
  const message =
    typeof payload.message === "string" && payload.message !== ""
      ? payload.message
      : `The server answered ${response.status} ${response.statusText}. Please try again.`;
  return new ApiError(
    response.status,
    message,
    typeof payload.error === "string" ? payload.error : null,
    typeof payload.field === "string" ? payload.field : null,
  );
}

async function json<T>(method: string, path: string, body?: unknown): Promise<T> {
  return (await (await request(method, path, body)).json()) as T;
}

export const api = {
  meta: () => json<Meta>("GET", "/meta"),

  signUp: (input: { name: string; email: string; password: string }) =>
    json<User>("POST", "/users", input),

  signIn: async (input: { email: string; password: string }) =>
    (await json<{ user: User }>("POST", "/sessions", input)).user,

  signOut: async () => {
    await request("DELETE", "/sessions");
  },

  /** The signed-in user, or null when the session cookie is missing or expired. */
  me: async (): Promise<User | null> => {
    try {
      return (await json<{ user: User }>("GET", "/me")).user;
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) return null;
      throw error;
    }
  },

  user: async (id: string): Promise<{ user: User; servedBy: ServedBy }> => {
    const response = await request("GET", `/users/${encodeURIComponent(id)}`);
    return {
      user: (await response.json()) as User,
      servedBy: {
        region: response.headers.get("x-served-by-region"),
        instance: response.headers.get("x-served-by-instance"),
        cache: response.headers.get("x-cache"),
      },
    };
  },

  startPhotoUpload: (userId: string, file: { contentType: string; size: number }) =>
    json<PhotoUpload>("POST", `/users/${encodeURIComponent(userId)}/photo`, file),

  /** PUTs the bytes where the server said: a presigned S3 URL on AWS, the app's own route locally. */
  uploadBytes: async (upload: PhotoUpload["upload"], file: Blob) => {
    // fetch's default credentials mode ("same-origin") keeps cookies away from S3's origin.
    const response = await fetch(upload.url, {
      method: upload.method,
      headers: upload.headers,
      body: file,
    });
    if (!response.ok) throw await toApiError(response);
  },

  completePhotoUpload: async (userId: string, key: string) => {
    await request("POST", `/users/${encodeURIComponent(userId)}/photo/complete`, { key });
  },
};
