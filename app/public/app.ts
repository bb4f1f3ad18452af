// The single page: sign up, sign in and out, the profile with its photo, and who served it.
import { api, ApiError, type ServedBy, type User } from "./api.js";

/** How long to keep asking for the thumbnail before telling the user to come back later. */
const THUMBNAIL_WAIT_MS = 120_000;

function element<T extends HTMLElement>(id: string, type: { new (): T }): T {
  const found = document.getElementById(id);
  if (!(found instanceof type)) throw new Error(`#${id} is missing from index.html`);
  return found;
}

const ui = {
  pageError: element("page-error", HTMLParagraphElement),
  metaRegion: element("meta-region", HTMLElement),
  metaInstance: element("meta-instance", HTMLElement),
  metaModes: element("meta-modes", HTMLParagraphElement),
  signedOut: element("signed-out", HTMLElement),
  signedIn: element("signed-in", HTMLElement),
  signupForm: element("signup-form", HTMLFormElement),
  signupError: element("signup-error", HTMLParagraphElement),
  signinForm: element("signin-form", HTMLFormElement),
  signinError: element("signin-error", HTMLParagraphElement),
  signOut: element("sign-out", HTMLButtonElement),
  photo: element("photo", HTMLImageElement),
  photoPlaceholder: element("photo-placeholder", HTMLSpanElement),
  profileName: element("profile-name", HTMLElement),
  profileEmail: element("profile-email", HTMLElement),
  profileCreated: element("profile-created", HTMLElement),
  profileId: element("profile-id", HTMLElement),
  profileServedBy: element("profile-served-by", HTMLParagraphElement),
  photoForm: element("photo-form", HTMLFormElement),
  photoFile: element("photo-file", HTMLInputElement),
  photoStatus: element("photo-status", HTMLParagraphElement),
  photoError: element("photo-error", HTMLParagraphElement),
};

/**
 * Bumped on every sign-in and sign-out so that a thumbnail poll started for one session
 * stops instead of painting a photo into the next one.
 */
let sessionGeneration = 0;

function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  // fetch rejects with a TypeError when the network or the server is unreachable.
  if (error instanceof TypeError) return "Could not reach the server. Check your connection.";
  return error instanceof Error ? error.message : String(error);
}

/** Shows an error inside a form and, when the API names the offending field, marks that input. */
function showFormError(form: HTMLFormElement, target: HTMLElement, error: unknown): void {
  target.textContent = errorMessage(error);
  const field = error instanceof ApiError ? error.field : null;
  const input = field === null ? null : form.elements.namedItem(field);
  if (input instanceof HTMLInputElement) {
    input.setAttribute("aria-invalid", "true");
    input.setAttribute("aria-errormessage", target.id);
    input.focus();
  }
}

function clearFormError(form: HTMLFormElement, target: HTMLElement): void {
  target.textContent = "";
  for (const input of form.querySelectorAll("[aria-invalid]")) {
    input.removeAttribute("aria-invalid");
    input.removeAttribute("aria-errormessage");
  }
}

/** Runs a form's action with its submit button disabled, so a double click sends one request. */
function onSubmit(
  form: HTMLFormElement,
  errorTarget: HTMLElement,
  action: (data: FormData) => Promise<void>,
): void {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector<HTMLButtonElement>("button[type=submit]");
    clearFormError(form, errorTarget);
    form.setAttribute("aria-busy", "true");
    if (button) button.disabled = true;
    try {
      await action(new FormData(form));
    } catch (error) {
      showFormError(form, errorTarget, error);
    } finally {
      form.removeAttribute("aria-busy");
      if (button) button.disabled = false;
    }
  });
}

function text(data: FormData, name: string): string {
  const value = data.get(name);
  return typeof value === "string" ? value.trim() : "";
}

function initials(name: string): string {
  return name
    .split(/\s+/)
    .filter(Boolean)
    .slice(0, 2)
    .map((word) => word[0]?.toUpperCase())
    .join("");
}

function showPhoto(user: User): void {
  const url = user.photo?.thumbnailUrl;
  ui.photoPlaceholder.textContent = initials(user.name);
  ui.photoPlaceholder.hidden = Boolean(url);
  ui.photo.hidden = !url;
  if (url && ui.photo.getAttribute("src") !== url) {
    ui.photo.alt = `Profile photo of ${user.name}`;
    ui.photo.src = url;
  }
}

function showServedBy(servedBy: ServedBy): void {
  const parts = [
    servedBy.region && `region ${servedBy.region}`,
    servedBy.instance && `instance ${servedBy.instance}`,
    servedBy.cache && `cache ${servedBy.cache.toLowerCase()}`,
  ].filter(Boolean);
  ui.profileServedBy.textContent = parts.length > 0 ? `Profile read from ${parts.join(", ")}.` : "";
}

function showProfile(user: User): void {
  ui.profileName.textContent = user.name;
  ui.profileEmail.textContent = user.email;
  const created = new Date(user.createdAt);
  ui.profileCreated.textContent = Number.isNaN(created.getTime())
    ? user.createdAt
    : created.toLocaleDateString(undefined, { dateStyle: "long" });
  ui.profileId.textContent = user.id;
  showPhoto(user);
}

let currentUser: User | null = null;

function render(user: User | null): void {
  currentUser = user;
  ui.pageError.textContent = "";
  ui.signedOut.hidden = user !== null;
  ui.signedIn.hidden = user === null;
  if (user) {
    showProfile(user);
  } else {
    ui.profileServedBy.textContent = "";
    ui.photoStatus.textContent = "";
    ui.photoError.textContent = "";
    ui.photo.removeAttribute("src");
    ui.photoForm.reset();
  }
}

/** Re-reads the profile through `GET /users/:id`, the cached read path, to show who served it. */
async function refreshProfile(id: string): Promise<User> {
  const { user, servedBy } = await api.user(id);
  if (currentUser?.id === id) {
    showProfile(user);
    showServedBy(servedBy);
  }
  return user;
}

async function signedIn(user: User): Promise<void> {
  sessionGeneration += 1;
  render(user);
  // The session exists even if this read fails, so report it on the page, not on the sign-in form.
  await refreshProfile(user.id).catch((error: unknown) => {
    ui.pageError.textContent = errorMessage(error);
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls the profile until the worker has attached a thumbnail other than `previousUrl`. */
async function waitForThumbnail(userId: string, previousUrl: string | null): Promise<void> {
  const generation = sessionGeneration;
  const deadline = Date.now() + THUMBNAIL_WAIT_MS;
  let delay = 500;
  while (Date.now() < deadline) {
    await sleep(delay);
    if (generation !== sessionGeneration) return;
    try {
      const url = (await refreshProfile(userId)).photo?.thumbnailUrl;
      if (url && url !== previousUrl) {
        ui.photoStatus.textContent = "Your new photo is ready.";
        return;
      }
    } catch (error) {
      // A 4xx will not get better by asking again; a 5xx or a network blip might.
      if (error instanceof ApiError && error.status < 500) throw error;
    }
    // Back off gently: the worker usually needs a second, a cold queue longer.
    delay = Math.min(delay * 1.5, 3000);
  }
  ui.photoStatus.textContent =
    "The thumbnail is taking longer than usual. It will show up here once it is ready.";
}

onSubmit(ui.signupForm, ui.signupError, async (data) => {
  const credentials = { email: text(data, "email"), password: String(data.get("password") ?? "") };
  await api.signUp({ name: text(data, "name"), ...credentials });
  // Signing up creates the account only; start the session straight away with the same details.
  await signedIn(await api.signIn(credentials));
  ui.signupForm.reset();
});

onSubmit(ui.signinForm, ui.signinError, async (data) => {
  await signedIn(
    await api.signIn({ email: text(data, "email"), password: String(data.get("password") ?? "") }),
  );
  ui.signinForm.reset();
});

onSubmit(ui.photoForm, ui.photoError, async () => {
  const user = currentUser;
  const file = ui.photoFile.files?.[0];
  if (!user) return;
  if (!file) throw new Error("Choose a photo first.");
  const previousUrl = user.photo?.thumbnailUrl ?? null;
  ui.photoStatus.textContent = "Uploading…";
  try {
    const { key, upload } = await api.startPhotoUpload(user.id, {
      contentType: file.type || "application/octet-stream",
      size: file.size,
    });
    await api.uploadBytes(upload, file);
    await api.completePhotoUpload(user.id, key);
  } catch (error) {
    ui.photoStatus.textContent = "";
    throw error;
  }
  ui.photoStatus.textContent = "Uploaded. Making the thumbnail…";
  ui.photoForm.reset();
  await waitForThumbnail(user.id, previousUrl);
});

ui.photo.addEventListener("error", () => {
  if (ui.photo.getAttribute("src")) ui.photoError.textContent = "The photo could not be loaded.";
});

ui.signOut.addEventListener("click", async () => {
  ui.signOut.disabled = true;
  try {
    await api.signOut();
    sessionGeneration += 1;
    render(null);
  } catch (error) {
    ui.pageError.textContent = errorMessage(error);
  } finally {
    ui.signOut.disabled = false;
  }
});

async function showMeta(): Promise<void> {
  const meta = await api.meta();
  ui.metaRegion.textContent = meta.region;
  ui.metaInstance.textContent = meta.instance;
  ui.metaModes.textContent = Object.entries(meta.mode)
    .map(([part, mode]) => `${part}: ${mode}`)
    .join(" · ");
}

async function start(): Promise<void> {
  const [meta, me] = await Promise.allSettled([showMeta(), api.me()]);
  if (meta.status === "rejected") {
    ui.metaRegion.textContent = "unknown";
    ui.metaInstance.textContent = "unknown";
  }
  if (me.status === "fulfilled" && me.value) {
    await signedIn(me.value);
  } else {
    render(null);
    if (me.status === "rejected") ui.pageError.textContent = errorMessage(me.reason);
  }
}

void start();
