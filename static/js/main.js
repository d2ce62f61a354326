// Wires the parts of the page together: pick a snippet, edit, run, send, watch;
// present, follow, share and study. The parts are made first, in an order where each is
// made before anything names it; what they call back is in the functions below them.
import { api } from "./api.js";
import { CommandLine } from "./commands.js";
import { CookieJar } from "./cookies.js";
import { Editor, editsBetween } from "./editor.js";
import { renderError } from "./errors.js";
import { FileActions } from "./files.js";
import { FollowMode } from "./follow.js";
import { CodeFormat } from "./format.js";
import { Inspector } from "./inspector.js";
import { setupLayout } from "./layout.js";
import { LiveLog } from "./live.js";
import { Picker } from "./picker.js";
import { PresenterMode } from "./presenter.js";
import { RequestPanel } from "./request.js";
import { ResponseView } from "./response.js";
import { Sandbox } from "./sandbox.js";
import { Sharing, sharedOnLoad } from "./share.js";
import { hasEdits, load, loadAppSpec, loadEdits, save, saveAppSpec, saveEdits } from "./storage.js";
import { Study } from "./study.js";
import { DiffView, Watch } from "./watch.js";

const $ = (id) => document.getElementById(id);
// What the editor shows: a snippet as /api/snippets/<slug> gives it, or shared code
// dressed as one. `key` names it in localStorage: the slug, or "share:<key>".
let snippet = null;
let shownError = null; // the start error in the error panel, so replays do not repaint it
let opening = null; // the slug asked for last, so a slower earlier answer is dropped
let resetWanted = false; // Reset data was confirmed, and no run has started since (a refusal's retry does it)

setupLayout();

const picker = new Picker({ list: $("snippet-list"), search: $("snippet-search"), onPick: open, onFilter: pickerFiltered });
const editor = new Editor({ host: $("editor-host"), tabs: $("file-tabs"), onChange: editorChanged, onShow: editorShown });
const fileActions = new FileActions(editor, {
  newButton: $("new-file"), uploadButton: $("upload-file"), uploadInput: $("upload-input"),
  renameButton: $("rename-file"), deleteButton: $("delete-file"), form: $("file-namer"),
});
const codeFormat = new CodeFormat(editor, { button: $("format-code"), message: $("format-message") });
const sandbox = new Sandbox({
  badge: $("sandbox-state"), isolation: $("sandbox-isolation"), stopButton: $("stop-button"), refusal: $("refusal-panel"),
  onChange: sandboxChanged, retry: () => (watch.on ? rerun() : run()), // watch mode sends again too
});
const live = new LiveLog("log", {
  // State events arrive in order, so the last one applied is the sandbox's state.
  onEvent: (event) => { if (event.type === "state") sandbox.apply(event); },
  onLost: () => sandbox.lost(),
});
const commandLine = new CommandLine({ form: $("command-form"), input: $("command-input"), output: $("command-output"), sandbox });
const cookies = new CookieJar($("cookie-jar"), {
  sandboxId: () => sandbox.id,
  onCount: (n) => { $("cookies-count").textContent = n || ""; },
});
const inspector = new Inspector($("inspector-panel"), { editor, sandboxId: () => sandbox.id, appUrl, resend: resendLast });
const requests = new RequestPanel($("request-panel"), { onSend: send, onGoto: gotoCode, onShow: showHistoryEntry, appUrl });
const response = new ResponseView($("response-panel"), {
  prefix: "response", cookies, onFollow: (request) => send({ ...request, follow_redirects: true }), onNavigate: navigate,
  showException: (box, error) => {
    showError(box, error, "Exception in a route");
    markError(error, { reveal: !editor.touched && !editor.hasFocus }); // never away from typing
  },
  fetchFromApp,
  appUrl,
});
const diffView = new DiffView($("response-status").closest(".status-line"));
const watch = new Watch({ toggle: $("watch-toggle"), onRerun: rerun, onToggle: watchToggled });
const presenter = new PresenterMode({
  button: $("present-button"), dialog: $("present-dialog"), editor,
  current: () => ({ slug: snippet?.slug ?? snippet?.key, title: snippet?.title, app: $("app-spec").value.trim() }),
  watching: () => watch.on,
  onChange: presentingChanged,
});
const study = new Study({
  list: $("snippet-list"), prev: $("prev-snippet"), next: $("next-snippet"), progress: $("study-progress"),
  neighbour: (slug, step) => picker.neighbour(slug, step), open,
});
const follow = new FollowMode({
  root: $("follow-view"), button: $("follow-live-button"), onFork: fork, onFollow: () => study.endTour(),
});
new Sharing({
  shareButton: $("share-button"), downloadButton: $("download-button"), dialog: $("share-dialog"),
  files: () => editor.files,
  current: () => ({ slug: snippet?.slug, title: snippet?.title, app: $("app-spec").value.trim() }),
});

window.addEventListener("pagehide", () => sandbox.release());

function editorChanged(_path, kind) {
  saveEdits(snippet.key, editor.edits);
  markChanged();
  codeFormat.edited();
  watch.typed();
  if (kind === "files") presenter.opened();
  else presenter.changed("edit");
}

/** The visitor's changes to the snippet (its files, its App field) are kept: say so. */
function markChanged() {
  const changed = hasEdits(snippet.key);
  picker.markModified(snippet.key, changed);
  $("reset-button").hidden = !changed;
}

function appSpecChanged() {
  const spec = $("app-spec").value.trim();
  saveAppSpec(snippet.key, spec === (snippet.app ?? "") ? null : spec);
  $("app-spec").removeAttribute("aria-invalid");
  markChanged();
}

function editorShown() {
  fileActions.update();
  codeFormat.update();
  presenter.changed("view");
}

/** The search changed which snippets are shown: ◀ ▶ and Alt+↑/↓ step among those. */
function pickerFiltered() {
  study.mark();
}

function watchToggled() {
  presenter.sendWatch();
}

function presentingChanged(presenting) {
  follow.setPresenting(presenting);
}

function showError(container, error, heading) {
  renderError(container, error, {
    heading,
    locate: (file) => editor.pathFor(file),
    onGoto: (path, line) => editor.reveal(path, line),
  });
}

/** Shows a line of the app's code, given a file as the child names it. */
function gotoCode(file, line) {
  const path = editor.pathFor(file);
  if (path) editor.reveal(path, line);
}

function markError(error, options) {
  editor.markError(error.file, error.line, `${error.type}: ${error.message}`, options);
}

async function fetchSnippet(slug) {
  try {
    return await api("GET", `/api/snippets/${encodeURIComponent(slug)}`);
  } catch (error) {
    showError($("error-panel"), { type: "Could not open the snippet", message: error.message });
    return null;
  }
}

/** Opens a snippet of the talk (again, with `force`, to pick up edits stored meanwhile). */
async function open(slug, { force = false } = {}) {
  if (!force && slug === (opening ?? snippet?.key)) return;
  opening = slug;
  const data = await fetchSnippet(slug);
  if (!data || opening !== slug) return;
  opening = null;
  save("lastSnippet", slug);
  history.replaceState(null, "", `/#${slug}`);
  show({ ...data, key: slug });
  study.visited(slug);
}

/** Opens code from a share link, with the notes and requests of the snippet it came from. */
async function openShare(share) {
  const base = share.slug ? await fetchSnippet(share.slug) : null;
  show({
    requests: [], notes_html: "", ...base, slug: share.slug, key: `share:${share.key}`,
    title: `Shared code${base ? ` (from “${base.title}”)` : ""}`, files: share.files, app: share.app,
  });
}

function show(data) {
  snippet = data;
  resetWanted = false; // another snippet's app: a new sandbox, with no data
  picker.select(data.key);
  sandbox.discard();
  live.clear(); // the log was the previous snippet's app
  hideStartError();
  // The visitor's edits: changed and added files, and deleted ones as null.
  const edits = loadEdits(data.key);
  const files = { ...data.files };
  for (const [path, text] of Object.entries(edits)) {
    if (text === null) delete files[path];
    else files[path] = text;
  }
  editor.open(files, data.files);
  $("app-spec").value = loadAppSpec(data.key) ?? data.app ?? "";
  $("app-spec").removeAttribute("aria-invalid");
  $("reset-button").hidden = !hasEdits(data.key);
  $("snippet-title").textContent = data.title;
  document.title = `${data.title} · Flask Playground`;
  $("notes-body").innerHTML = data.notes_html; // the host's own snippet catalog, not visitor input
  for (const pre of $("notes-body").querySelectorAll("pre")) pre.tabIndex = 0; // it may scroll: the keyboard too
  requests.setSuggestions(data.requests ?? []);
  requests.setRoutes([]);
  requests.clearHistory();
  requests.fill(data.requests?.[0] ?? { method: "GET", path: "/" });
  response.clear();
  commandLine.clear();
  inspector.clear();
  diffView.clear();
  cookies.show([]);
  presenter.opened();
}

/** The presenter's code (and App field) becomes the visitor's own edits of that snippet, or of
 * "fork" when it is no snippet of the catalog, and runs; false when the visitor would rather keep
 * their own edits of it. */
async function fork(files, { slug, title, app }) {
  const base = slug && !slug.startsWith("share:") ? await fetchSnippet(slug) : null;
  const key = base ? slug : "fork";
  const edits = base ? editsBetween(files, base.files) : {};
  // The presenter's App field: the forked code's own, or an edit of the snippet when it differs.
  const spec = !base || (app ?? "") === (base.app ?? "") ? null : app;
  const mine = loadEdits(key);
  const replacing =
    hasEdits(key) && (JSON.stringify(mine) !== JSON.stringify(edits) || loadAppSpec(key) !== spec);
  const name = base?.title ?? "the code you forked before";
  if (replacing && !confirm(`Replace your own changes to “${name}” with the presenter's code?`)) return false;
  saveEdits(key, edits);
  saveAppSpec(key, spec);
  if (base) {
    picker.markModified(slug, hasEdits(slug));
    await open(slug, { force: true });
  } else {
    show({ key, title: `Forked: ${title ?? "the presenter's code"}`, files, app, notes_html: "", requests: [] });
  }
  run(); // the follow view closes while it starts
  return true;
}

function resetSnippet() {
  const original = snippet.key.startsWith("share:") ? "the shared version" : "the talk's version";
  if (!confirm(`Throw away your changes to “${snippet.title}” and restore ${original}?`)) return;
  saveEdits(snippet.key, {});
  saveAppSpec(snippet.key, null);
  $("app-spec").value = snippet.app ?? "";
  markChanged();
  editor.open(snippet.files, snippet.files);
  presenter.opened();
}

function hideStartError() {
  shownError = null;
  $("error-panel").hidden = true;
  editor.clearMarks();
}

/** Runs the editor's files as the App field says; `resetData`: with none of what earlier runs
 * wrote. */
async function run({ resetData = false } = {}) {
  if (!snippet) return;
  hideStartError();
  editor.touched = false;
  response.markStale();
  resetWanted ||= resetData;
  try {
    await sandbox.run(editor.files, snippet.title, { app: $("app-spec").value.trim(), resetData: resetWanted });
  } catch {
    return; // the sandbox shows what went wrong (or why the host said no) under the editor
  }
  resetWanted = false;
  study.ran(); // the code ran, even if it failed: a refused run is no run
}

function resetData() {
  if (!confirm("Run the app again with no data?\n\nWhat it wrote is deleted: its instance folder and the SQLite "
    + "files it made (the users registered, the posts written…). Your code stays as it is.")) return;
  run({ resetData: true });
}

/** The running app's address through the host, for curl on any machine; null when none runs. */
function appUrl() {
  return sandbox.id ? sandbox.info.url ?? null : null;
}

/** Watch mode, after a pause in typing: run again, then send the last request again. */
async function rerun() {
  await run();
  const last = requests.history.at(-1)?.request;
  if (last && sandbox.isRunning) send(last);
}

function sandboxChanged(info) {
  if (info.id) live.connect(info.id);
  else live.disconnect();
  live.showRuntime(info.runtime);
  $("run-button").disabled = info.state === "starting";
  // Data is kept per sandbox: before the first run, or while one starts, there is none to reset.
  $("reset-data").disabled = !info.id || info.state === "starting";
  if (info.error?.code === "bad_app") $("app-spec").setAttribute("aria-invalid", "true");
  inspector.setSandbox(info);
  if (info.state === "running" || info.state === "idle") requests.setRoutes(info.routes ?? []);
  if (info.state === "failed" && info.error) {
    const key = JSON.stringify(info.error);
    if (key === shownError) return;
    shownError = key;
    showError($("error-panel"), info.error, "The app could not start");
    markError(info.error); // the visitor pressed Run: the error is what they want to see
  }
}

/** Sends `request`; the host follows its redirects when it says so (by default, when the panel's
 * switch does: a click in the preview asks without saying). */
async function send(wanted, origin = null) {
  const request = { follow_redirects: requests.follow.checked, ...wanted };
  response.pending(request);
  await sandbox.running?.catch(() => {}); // a run under way: its outcome decides
  if (!sandbox.isRunning) await run();
  if (!sandbox.isRunning) {
    const refused = ["waiting", "refused"].includes(sandbox.info.state);
    response.failed(refused ? "The app has not started yet: see why under the editor."
      : "The app is not running: see the error under the editor.");
    return;
  }
  try {
    const answer = await api("POST", `/api/sandboxes/${sandbox.id}/requests`, request);
    showExchange(answer, request);
    diffView.show(request, answer, { enabled: watch.on });
    RequestPanel.judge(origin, answer);
    requests.addHistory({ request, response: answer });
  } catch (error) {
    response.failed(error.message);
    requests.addHistory({ request, error: error.message });
  }
}

function resendLast() {
  const last = requests.history.at(-1)?.request;
  if (last) send(last);
}

/** A link or form in the preview asked for another page of the app. */
function navigate(request) {
  requests.fill(request);
  send(request);
}

function showHistoryEntry({ request, response: answer, error }) {
  if (answer) showExchange(answer, request);
  else response.failed(error);
}

function showExchange(answer, request) {
  // An earlier exception's mark is stale now; this answer's own exception marks its line again.
  editor.clearMarks();
  inspector.show({ ...answer, request });
  response.show(answer, request);
  requests.markRoute(answer.route?.rule?.index ?? null);
}

/** GETs a stylesheet or image from the app, for the preview. */
function fetchFromApp(path) {
  if (!sandbox.isRunning) return null;
  // `preview`: the preview's own stylesheets and images, not an exchange to show followers.
  return api("POST", `/api/sandboxes/${sandbox.id}/requests`,
    { method: "GET", path, headers: {}, body: null, preview: true })
    .catch(() => null);
}

function isTyping(target) {
  return target.closest("input, textarea, select, [contenteditable]") !== null;
}

document.addEventListener("keydown", (event) => {
  const mod = event.ctrlKey || event.metaKey;
  if (mod && event.key === "Enter") {
    event.preventDefault();
    if (event.target.closest("#request-panel")) requests.send();
    else run();
  } else if (mod && event.key.toLowerCase() === "s") {
    event.preventDefault();
    run();
  } else if (event.altKey && event.shiftKey && event.code === "KeyF") {
    event.preventDefault();
    codeFormat.format();
  } else if (event.altKey && /^[1-9]$/.test(event.key)) {
    event.preventDefault();
    editor.showIndex(Number(event.key) - 1);
  } else if (event.altKey && (event.key === "ArrowUp" || event.key === "ArrowDown")) {
    event.preventDefault();
    study.go(event.key === "ArrowUp" ? -1 : 1, open);
  } else if (event.altKey && (event.code === "KeyP" || event.code === "KeyE")) {
    // Straight to the request's path, or back to the editor, without tabbing through the page.
    event.preventDefault();
    if (event.code === "KeyP") $("request-path").focus();
    else editor.focus();
  } else if (!mod && !event.altKey && !isTyping(event.target)) {
    if (event.key === "/") {
      event.preventDefault();
      $("snippet-search").focus();
    } else if (event.key === "?") {
      $("help").togglePopover();
    }
  }
});

$("skip-to-editor").addEventListener("click", (event) => {
  event.preventDefault();
  editor.focus();
});
$("tour-again").addEventListener("click", () => {
  $("help").hidePopover();
  study.tour(0);
});
$("run-button").addEventListener("click", () => run());
$("reset-data").addEventListener("click", resetData);
$("app-spec").addEventListener("input", appSpecChanged);
$("app-spec").addEventListener("change", () => presenter.appCommitted()); // a fork runs with it
$("app-spec").addEventListener("keydown", (event) => {
  if (event.key === "Enter") {
    event.preventDefault();
    presenter.appCommitted();
    run();
  }
});
$("stop-button").addEventListener("click", () => sandbox.stop());
$("reset-button").addEventListener("click", resetSnippet);

async function start() {
  let list;
  try {
    ({ snippets: list } = await api("GET", "/api/snippets"));
  } catch (error) {
    showError($("error-panel"), { type: "Could not load the snippets", message: error.message });
    return;
  }
  picker.show(list);
  study.mark();
  const share = await sharedOnLoad().catch((error) => {
    showError($("error-panel"), { type: "Could not open the shared code", message: error.message });
    return null;
  });
  if (share) {
    await openShare(share);
  } else {
    const wanted = [decodeURIComponent(location.hash.slice(1)), load("lastSnippet")];
    const slug = wanted.find((s) => list.some((item) => item.slug === s)) ?? list[0]?.slug;
    if (slug) await open(slug);
  }
  study.tourOnce();
}

window.addEventListener("hashchange", () => {
  const slug = decodeURIComponent(location.hash.slice(1));
  if (slug && slug !== snippet?.key) open(slug);
});

start();
