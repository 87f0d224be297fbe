// The agent console: the login page and the console page (queue + conversation view).
// One script for both pages (CSP allows only scripts from this app); <body data-page> says which.
// Everything from the server or a citizen is put in the page with textContent, never as HTML.
// The HTTP contract is in docs/handoff.md ("Console API").
(function () {
  "use strict";

  var LOGIN_PAGE = "/console/login";
  var CONSOLE_PAGE = "/console/";

  function byId(id) { return document.getElementById(id); }

  // A new element with an optional class and text (text only ever through textContent).
  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function clear(node) {
    while (node.firstChild) { node.removeChild(node.firstChild); }
  }

  function has(object, key) {
    return object !== null && typeof object === "object" && Object.prototype.hasOwnProperty.call(object, key);
  }

  function isBlank(value) {
    return value === null || value === undefined || value === "" ||
      (Array.isArray(value) && value.length === 0);
  }

  var page = document.body.getAttribute("data-page");
  if (page === "login") {
    initLogin();
  } else if (page === "console") {
    initConsole();
  }

  // ---------------------------------------------------------------- login page

  function initLogin() {
    var form = byId("login-form");
    var username = byId("username");
    var password = byId("password");
    var error = byId("login-error");
    var submit = byId("login-submit");
    var busy = false;

    function fail(message, field) {
      error.textContent = message;
      username.setAttribute("aria-invalid", "true");
      password.setAttribute("aria-invalid", "true");
      username.setAttribute("aria-describedby", "login-error");
      password.setAttribute("aria-describedby", "login-error");
      if (field) { field.focus(); }
    }

    function done() {
      busy = false;
      submit.disabled = false;
      submit.textContent = "Log in";
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (busy) { return; }
      error.textContent = "";
      var name = username.value.trim();
      if (!name || !password.value) {
        fail("Enter your username and password.", name ? password : username);
        return;
      }
      busy = true;
      submit.disabled = true;
      submit.textContent = "Logging in…";
      fetch(LOGIN_PAGE, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "Accept": "application/json" },
        body: JSON.stringify({ username: name, password: password.value })
      }).then(function (response) {
        if (response.ok) {
          window.location.assign(CONSOLE_PAGE);
          return;  // the button stays busy until the console page arrives
        }
        done();
        password.value = "";
        if (response.status === 401) {
          fail("Wrong username or password", password);
        } else if (response.status === 429) {
          fail("Too many attempts. Wait a minute, then try again.", password);
        } else {
          fail("Login failed: the server answered " + response.status + ". Try again in a moment.", password);
        }
      }, function () {
        done();
        fail("Cannot reach the server. Check your connection and try again.", submit);
      });
    });
  }

  // ---------------------------------------------------------------- console page

  function initConsole() {
    var body = document.body;
    var me = {
      username: body.getAttribute("data-user-name") || "",
      role: body.getAttribute("data-user-role") || "",
      displayName: body.getAttribute("data-user-display-name") || ""
    };
    var csrfMeta = document.querySelector('meta[name="csrf-token"]');
    var csrfToken = csrfMeta ? csrfMeta.getAttribute("content") : "";
    var baseTitle = document.title;

    var FILTERS_KEY = "citybot.console.filters";
    var QUEUE_DEBOUNCE_MS = 150;     // several handoff events in a burst: one re-fetch
    var TEAM_FILTER_DEBOUNCE_MS = 300;
    var QUEUE_REFRESH_MS = 60000;    // a safety net; live events do the real work
    var OK_STATUS_MS = 6000;
    var STICKY_BOTTOM_PX = 80;
    var STALE_PAGE = -1;             // an ApiError status of our own, see staleOrSignedOut()

    var URGENCY_LABELS = { emergency: "Emergency", high: "High", normal: "Normal", low: "Low" };
    var STATUS_LABELS = { waiting: "Waiting", active: "Active", resolved: "Resolved" };
    var REASON_LABELS = {
      citizen_request: "Asked for a person",
      not_understood: "Bot did not understand",
      form_failed: "Could not finish a form",
      frustration: "Citizen frustrated",
      emergency: "Emergency"
    };
    var LANGUAGE_LABELS = { en: "English", es: "Spanish", fr: "French" };

    // Elements
    var actionStatus = byId("action-status");
    var liveStatus = byId("live-status");
    var liveText = byId("live-text");
    var logoutButton = byId("logout");
    var queueList = byId("queue");
    var queueEmpty = byId("queue-empty");
    var queueCount = byId("queue-count");
    var queueAnnounce = byId("queue-announce");
    var filterForm = byId("queue-filters");
    var filterStatus = byId("filter-status");
    var filterLanguage = byId("filter-language");
    var filterTeam = byId("filter-team");
    var teamsList = byId("teams");
    var conversation = byId("conversation");
    var placeholder = byId("conversation-placeholder");
    var view = byId("conversation-view");
    var heading = byId("conversation-heading");
    var referenceLabel = byId("conversation-reference");
    var badges = byId("conversation-badges");
    var summaryText = byId("summary-text");
    var facts = byId("facts");
    var context = byId("context");
    var transcript = byId("transcript");
    var jumpLatest = byId("jump-latest");
    var claimButton = byId("claim");
    var releaseButton = byId("release");
    var downloadLink = byId("download-transcript");
    var handling = byId("handling");
    var transferForm = byId("transfer-form");
    var transferTeam = byId("transfer-team");
    var transferButton = byId("transfer");
    var resolveForm = byId("resolve-form");
    var resolveNote = byId("resolve-note");
    var resolveButton = byId("resolve");
    var replyForm = byId("reply-form");
    var reply = byId("reply");
    var sendButton = byId("send");
    var replyHint = byId("reply-hint");
    var notesList = byId("notes");
    var noteForm = byId("note-form");
    var noteText = byId("note-text");
    var addNoteButton = byId("add-note");

    // State
    var queueSeq = 0;             // drops answers to queue requests overtaken by newer ones
    var queueTimer = null;
    var teamFilterTimer = null;
    var knownRefs = null;         // references seen in the queue so far (null: before the first fetch)
    var teams = {};
    var unread = {};              // reference -> true: a citizen wrote and the agent has not looked
    var readRefs = {};            // opened since the server last counted it unread
    var drafts = {};              // reference -> unsent reply text
    var current = null;           // the open conversation, see openConversation()
    var openSeq = 0;
    var busyActions = 0;
    var statusTimer = null;
    var events = null;
    var eventsBroken = false;     // reload everything once the live feed is back
    var leaving = false;          // logging out: no more requests

    // ------------------------------------------------------------ helpers

    function ApiError(status, detail) {
      this.status = status;
      this.detail = detail || "";
    }

    function goToLogin() {
      window.location.assign(LOGIN_PAGE);
    }

    function detailOf(data) {
      if (!data || typeof data !== "object") { return ""; }
      var detail = data.detail !== undefined ? data.detail : data.message;
      if (typeof detail === "string") { return detail; }
      if (Array.isArray(detail)) {  // FastAPI's validation errors
        return detail.map(function (item) { return item && item.msg ? item.msg : ""; })
          .filter(Boolean).join("; ");
      }
      return "";
    }

    // fetch() with the session cookie, the CSRF header on every change, and JSON both ways.
    // A 401 anywhere means the session is gone: back to the sign-in page.
    function api(method, path, payload) {
      var headers = { "Accept": "application/json" };
      var options = { method: method, headers: headers, credentials: "same-origin", cache: "no-store" };
      if (method !== "GET") {
        headers["X-CSRF-Token"] = csrfToken;
        headers["Content-Type"] = "application/json";
        if (payload !== undefined) { options.body = JSON.stringify(payload); }
      }
      return fetch(path, options).then(function (response) {
        if (response.status === 401 && method !== "GET") { return staleOrSignedOut(); }
        if (response.status === 401) {
          goToLogin();
          throw new ApiError(401, "");
        }
        return response.text().then(function (raw) {
          var data = null;
          if (raw) {
            try { data = JSON.parse(raw); } catch (e) { data = null; }
          }
          if (!response.ok) { throw new ApiError(response.status, detailOf(data)); }
          return data;
        });
      }, function () {
        throw new ApiError(0, "");
      });
    }

    // A change refused with 401 is either a session that ended (log in again) or a CSRF token
    // from an older session (logged in again in another tab): then only a reload helps, and
    // sending the agent to the login page would throw away what they typed.
    function staleOrSignedOut() {
      return fetch("/api/console/me", { headers: { "Accept": "application/json" }, credentials: "same-origin", cache: "no-store" })
        .then(function (response) {
          if (response.status === 401) {
            goToLogin();
            throw new ApiError(401, "");
          }
          throw new ApiError(STALE_PAGE, "");
        }, function () {
          throw new ApiError(0, "");
        });
    }

    // Words for an error, for the agent; `conflict` is what a 409 means for this action.
    function explain(error, conflict) {
      if (!(error instanceof ApiError)) { return "Something went wrong in the page: reload it."; }
      switch (error.status) {
        case 0: return "Cannot reach the server. Check the connection and try again.";
        case STALE_PAGE: return "This page is out of date (you logged in again elsewhere?): reload it.";
        case 401: return "Your session has ended. Log in again.";
        case 403: return "Not allowed" + (error.detail ? ": " + error.detail : "") + ". If this goes on, reload the page.";
        case 404: return "This conversation was not found.";
        case 409:
          if (conflict && error.detail) { return conflict.replace(/\.$/, "") + " (" + error.detail + ")."; }
          return conflict || error.detail || "The conversation changed meanwhile.";
        case 413: return "That is too long.";
        case 422: return "Check what you entered" + (error.detail ? ": " + error.detail : ".");
        case 429: return "Too many requests. Wait a moment and try again.";
        default:
          if (error.status >= 500) {
            return "The server had a problem (" + error.status + "). Try again in a moment.";
          }
          return (error.detail || "The request failed") + " (" + error.status + ").";
      }
    }

    function setStatus(message, kind) {
      window.clearTimeout(statusTimer);
      actionStatus.textContent = message;
      actionStatus.setAttribute("data-kind", kind || "info");
      if (kind === "ok") {
        statusTimer = window.setTimeout(function () {
          actionStatus.textContent = "";
          actionStatus.removeAttribute("data-kind");
        }, OK_STATUS_MS);
      }
    }

    function showError(prefix, error, conflict) {
      if (error instanceof ApiError && error.status === 401) { return; }  // already leaving
      setStatus(prefix + " " + explain(error, conflict), "error");
    }

    function label(map, value) {
      if (isBlank(value)) { return ""; }
      if (has(map, value)) { return map[value]; }
      var text = String(value).replace(/_/g, " ");
      return text.charAt(0).toUpperCase() + text.slice(1);
    }

    function formatDuration(seconds) {
      seconds = Math.max(0, Math.floor(seconds));
      if (seconds < 60) { return seconds + " s"; }
      var minutes = Math.floor(seconds / 60);
      if (minutes < 60) { return minutes + " min " + (seconds % 60) + " s"; }
      var hours = Math.floor(minutes / 60);
      if (hours < 24) { return hours + " h " + (minutes % 60) + " min"; }
      return Math.floor(hours / 24) + " d " + (hours % 24) + " h";
    }

    // The server's times are UTC; one without an offset (SQLite keeps none) is read as UTC too.
    function parseTime(value) {
      if (isBlank(value)) { return null; }
      var text = String(value);
      if (/T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(text)) { text += "Z"; }
      var date = new Date(text);
      return isNaN(date.getTime()) ? null : date;
    }

    function timeElement(value, className) {
      var date = parseTime(value);
      var node = el("time", className);
      if (!date) { return node; }
      node.setAttribute("datetime", date.toISOString());
      node.title = date.toLocaleString();
      var now = new Date();
      var sameDay = date.toDateString() === now.toDateString();
      var clock = date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
      node.textContent = sameDay ? clock : date.toLocaleDateString([], { day: "numeric", month: "short" }) + ", " + clock;
      return node;
    }

    function percent(value) {
      var number = Number(value);
      if (value === null || value === undefined || isNaN(number)) { return ""; }
      return Math.round(number * 100) + "%";
    }

    function display(value) {
      if (value === true) { return "yes"; }
      if (value === false) { return "no"; }
      if (value !== null && typeof value === "object") { return JSON.stringify(value); }
      return String(value);
    }

    function badge(kind, value, labels) {
      var node = el("span", "badge badge--" + kind + " badge--" + kind + "-" + String(value).replace(/[^\w-]/g, ""),
        label(labels, value));
      return node;
    }

    function conversationPath(reference, suffix) {
      return "/api/console/handoffs/" + encodeURIComponent(reference) + (suffix || "");
    }

    function isMine(handoff) {
      return !!handoff && handoff.status === "active" && handoff.agent === me.username;
    }

    // Waiting time: counted here every second from the server's waiting_seconds, while waiting.
    function waitElement(summary, className) {
      var node = el("span", className);
      var seconds = Number(summary.waiting_seconds);
      if (isNaN(seconds)) { return node; }
      if (summary.status === "waiting") {
        node.setAttribute("data-wait-base", String(Date.now() - seconds * 1000));
      }
      node.textContent = formatDuration(seconds);
      return node;
    }

    function tick() {
      var now = Date.now();
      Array.prototype.forEach.call(document.querySelectorAll("[data-wait-base]"), function (node) {
        node.textContent = formatDuration((now - Number(node.getAttribute("data-wait-base"))) / 1000);
      });
    }

    function rememberTeam(team) {
      if (isBlank(team) || has(teams, team)) { return; }
      teams[team] = true;
      clear(teamsList);
      Object.keys(teams).sort().forEach(function (name) {
        var option = document.createElement("option");
        option.value = name;
        teamsList.appendChild(option);
      });
    }

    // ------------------------------------------------------------ unread marks

    function unreadCount() {
      return Object.keys(unread).length;
    }

    function updateTitle() {
      var count = unreadCount();
      document.title = count ? "(" + count + ") " + baseTitle : baseTitle;
    }

    function setUnreadDot(reference) {
      var item = queueItem(reference);
      if (!item) { return; }
      var dot = item.querySelector(".unread-dot");
      if (dot) { dot.hidden = !unread[reference]; }
      item.classList.toggle("is-unread", !!unread[reference]);
    }

    function markUnread(reference) {
      if (!reference || (current && current.reference === reference)) { return; }
      unread[reference] = true;
      delete readRefs[reference];
      setUnreadDot(reference);
      updateTitle();
    }

    function markRead(reference) {
      delete unread[reference];
      readRefs[reference] = true;
      setUnreadDot(reference);
      updateTitle();
    }

    // ------------------------------------------------------------ queue

    function loadFilters() {
      var saved = null;
      try { saved = JSON.parse(window.localStorage.getItem(FILTERS_KEY) || "null"); } catch (e) { saved = null; }
      if (!saved || typeof saved !== "object") { return; }
      if (typeof saved.status === "string" && filterStatus.querySelector('option[value="' + saved.status.replace(/[^a-z]/g, "") + '"]')) {
        filterStatus.value = saved.status;
      }
      if (typeof saved.language === "string" && filterLanguage.querySelector('option[value="' + saved.language.replace(/[^a-z]/g, "") + '"]')) {
        filterLanguage.value = saved.language;
      }
      if (typeof saved.team === "string") { filterTeam.value = saved.team; }
    }

    function saveFilters() {
      var value = { status: filterStatus.value, language: filterLanguage.value, team: filterTeam.value.trim() };
      try { window.localStorage.setItem(FILTERS_KEY, JSON.stringify(value)); } catch (e) { /* storage off */ }
    }

    function scheduleQueue(delay) {
      window.clearTimeout(queueTimer);
      queueTimer = window.setTimeout(loadQueue, delay === undefined ? QUEUE_DEBOUNCE_MS : delay);
    }

    function loadQueue() {
      window.clearTimeout(queueTimer);
      if (leaving) { return Promise.resolve(); }
      var seq = ++queueSeq;
      var params = new URLSearchParams();
      params.set("status", filterStatus.value || "open");
      if (filterLanguage.value) { params.set("language", filterLanguage.value); }
      var team = filterTeam.value.trim();
      if (team) { params.set("team", team); }
      queueList.setAttribute("aria-busy", "true");
      return api("GET", "/api/console/queue?" + params.toString()).then(function (data) {
        if (seq !== queueSeq) { return; }
        renderQueue(data && Array.isArray(data.handoffs) ? data.handoffs : []);
        if (actionStatus.getAttribute("data-queue-error")) {
          actionStatus.removeAttribute("data-queue-error");
          setStatus("", "info");
        }
      }, function (error) {
        if (seq !== queueSeq) { return; }
        showError("Could not load the queue.", error);
        actionStatus.setAttribute("data-queue-error", "1");
      }).then(function () {
        if (seq === queueSeq) { queueList.setAttribute("aria-busy", "false"); }
        scheduleQueue(QUEUE_REFRESH_MS);
      });
    }

    function queueItem(reference) {
      var items = queueList.querySelectorAll(".queue-item");
      for (var i = 0; i < items.length; i++) {
        if (items[i].getAttribute("data-reference") === reference) { return items[i]; }
      }
      return null;
    }

    function fillQueueItem(item, summary) {
      var reference = summary.reference;
      clear(item);
      item.setAttribute("data-reference", reference);
      item.setAttribute("data-status", summary.status || "");
      item.setAttribute("data-urgency", summary.urgency || "");
      item.classList.toggle("is-mine", isMine(summary));

      var top = el("span", "queue-item__top");
      if (summary.urgency) { top.appendChild(badge("urgency", summary.urgency, URGENCY_LABELS)); }
      if (summary.language) {
        var language = el("span", "tag tag--language", String(summary.language).toUpperCase());
        language.title = label(LANGUAGE_LABELS, summary.language);
        top.appendChild(language);
      }
      if (summary.status) { top.appendChild(badge("status", summary.status, STATUS_LABELS)); }
      var wait = el("span", "queue-item__wait");
      wait.appendChild(el("span", "visually-hidden", summary.status === "waiting" ? "waiting " : "waited "));
      wait.appendChild(waitElement(summary, "queue-item__clock"));
      top.appendChild(wait);
      item.appendChild(top);

      var meta = el("span", "queue-item__meta");
      if (summary.channel) { meta.appendChild(el("span", "queue-item__channel", summary.channel)); }
      if (summary.reason) { meta.appendChild(el("span", "queue-item__reason", label(REASON_LABELS, summary.reason))); }
      if (summary.team) { meta.appendChild(el("span", "queue-item__team", "Team " + summary.team)); }
      if (summary.agent) {
        var who = summary.agent === me.username ? "you" : summary.agent;
        meta.appendChild(el("span", "queue-item__agent",
          (summary.status === "resolved" ? "Resolved by " : "With ") + who));
      } else if (summary.status === "waiting" && summary.position) {
        meta.appendChild(el("span", "queue-item__position", "No. " + summary.position + " in line"));
      }
      item.appendChild(meta);

      if (summary.summary) { item.appendChild(el("span", "queue-item__summary", summary.summary)); }
      item.appendChild(el("span", "queue-item__reference", reference));

      var dot = el("span", "unread-dot");
      dot.appendChild(el("span", "visually-hidden", "new message"));
      dot.hidden = !unread[reference];
      item.classList.toggle("is-unread", !!unread[reference]);
      item.appendChild(dot);
    }

    function renderQueue(summaries) {
      var focused = document.activeElement;
      var focusedRef = focused && focused.classList && focused.classList.contains("queue-item")
        ? focused.getAttribute("data-reference") : null;
      var existing = {};
      Array.prototype.forEach.call(queueList.querySelectorAll(".queue-item"), function (item) {
        existing[item.getAttribute("data-reference")] = item.parentNode;
      });
      var firstFetch = knownRefs === null;
      var seen = knownRefs || {};
      var arrived = [];
      var counts = { waiting: 0, active: 0, resolved: 0 };
      var position = queueList.firstChild;

      summaries.forEach(function (summary) {
        if (!summary || !summary.reference) { return; }
        var reference = String(summary.reference);
        rememberTeam(summary.team);
        if (has(counts, summary.status)) { counts[summary.status] += 1; }
        // The server counts citizen messages since the last agent reply: for the agent's own
        // conversations that is "waiting for your answer" (after a reload too), unless opened since.
        // Elsewhere every waiting request would carry a dot, so only live arrivals mark those.
        if (Number(summary.unread) > 0 && isMine(summary) && !readRefs[reference] &&
            !(current && current.reference === reference)) {
          unread[reference] = true;
        }
        var row = existing[reference];
        var item;
        if (row) {
          item = row.firstChild;
          delete existing[reference];
        } else {
          row = el("li", "queue__row");
          item = el("button", "queue-item");
          item.type = "button";
          row.appendChild(item);
          if (!firstFetch && !has(seen, reference)) {
            row.classList.add("is-new");
            arrived.push(summary);
            window.setTimeout(function () { row.classList.remove("is-new"); }, 4000);
          }
        }
        seen[reference] = true;
        fillQueueItem(item, summary);
        var open = !!current && current.reference === reference;
        item.classList.toggle("is-open", open);
        if (open) { item.setAttribute("aria-current", "true"); } else { item.removeAttribute("aria-current"); }
        // Moves only rows out of place, so a focused row that stays put keeps the focus.
        if (row !== position) {
          queueList.insertBefore(row, position);
        } else {
          position = position.nextSibling;
        }
      });
      Object.keys(existing).forEach(function (reference) { queueList.removeChild(existing[reference]); });
      knownRefs = seen;

      var total = summaries.length;
      queueEmpty.hidden = total > 0;
      var parts = [];
      if (counts.waiting) { parts.push(counts.waiting + " waiting"); }
      if (counts.active) { parts.push(counts.active + " active"); }
      if (counts.resolved) { parts.push(counts.resolved + " resolved"); }
      queueCount.textContent = parts.join(" · ");
      updateTitle();

      if (focusedRef && document.activeElement !== queueItem(focusedRef)) {
        var again = queueItem(focusedRef);
        if (again) { again.focus({ preventScroll: true }); }
      }
      var newWaiting = arrived.filter(function (s) { return s.status === "waiting"; });
      if (newWaiting.length === 1) {
        queueAnnounce.textContent = "New in the queue: " + label(URGENCY_LABELS, newWaiting[0].urgency) +
          " urgency, " + label(LANGUAGE_LABELS, newWaiting[0].language) + ". " + (newWaiting[0].summary || "");
      } else if (newWaiting.length > 1) {
        queueAnnounce.textContent = newWaiting.length + " new conversations in the queue.";
      }
    }

    // ------------------------------------------------------------ conversation

    function showPlaceholder() {
      current = null;
      view.hidden = true;
      placeholder.hidden = false;
      Array.prototype.forEach.call(queueList.querySelectorAll(".queue-item.is-open"), function (item) {
        item.classList.remove("is-open");
        item.removeAttribute("aria-current");
      });
    }

    function saveDraft() {
      if (current && !reply.disabled) { drafts[current.reference] = reply.value; }
    }

    // Opens a conversation: the view shows at once, its data arrives after; live messages that come
    // in meanwhile wait in `pending` and are merged (without duplicates) once it is drawn.
    function openConversation(reference, options) {
      options = options || {};
      saveDraft();
      var seq = ++openSeq;
      var same = current && current.reference === reference;
      current = {
        reference: reference,
        loading: true,
        pending: [],
        handoff: same ? current.handoff : null,
        packet: same ? current.packet : null,
        nodes: same ? current.nodes : {}
      };
      markRead(reference);
      Array.prototype.forEach.call(queueList.querySelectorAll(".queue-item"), function (item) {
        var open = item.getAttribute("data-reference") === reference;
        item.classList.toggle("is-open", open);
        if (open) { item.setAttribute("aria-current", "true"); } else { item.removeAttribute("aria-current"); }
      });
      try { window.history.replaceState(null, "", "#c=" + encodeURIComponent(reference)); } catch (e) { /* file:// etc. */ }

      placeholder.hidden = true;
      view.hidden = false;
      conversation.setAttribute("aria-busy", "true");
      referenceLabel.textContent = reference;
      downloadLink.href = conversationPath(reference, "/transcript");
      downloadLink.setAttribute("download", "transcript-" + reference + ".json");
      if (!same) {
        clear(badges);
        clear(facts);
        clear(context);
        clear(transcript);
        clear(notesList);
        summaryText.textContent = "Loading…";
        claimButton.hidden = true;
        releaseButton.hidden = true;
        handling.hidden = true;
        jumpLatest.hidden = true;
        reply.value = drafts[reference] || "";
        resolveNote.value = "";
        transferTeam.value = "";
        noteText.value = "";
        updateReplyState();
      }

      return api("GET", conversationPath(reference)).then(function (data) {
        if (seq !== openSeq) { return; }
        renderConversation(data || {}, !!options.keepScroll && same);
        if (options.focus) { heading.focus(); }
      }, function (error) {
        if (seq !== openSeq) { return; }
        current.loading = false;
        showError("Could not open conversation " + reference + ".", error);
        if (error instanceof ApiError && error.status === 404) {
          try { window.history.replaceState(null, "", window.location.pathname); } catch (e) { /* ignore */ }
          showPlaceholder();
        } else if (!current.handoff) {
          summaryText.textContent = "This conversation could not be loaded.";
        }
      }).then(function () {
        if (seq === openSeq) { conversation.setAttribute("aria-busy", "false"); }
      });
    }

    function renderConversation(data, keepScroll) {
      var handoff = data.handoff || {};
      var packet = data.packet && typeof data.packet === "object" ? data.packet : {};
      var stickToBottom = !keepScroll || nearBottom();
      var savedScroll = transcript.scrollTop;
      current.handoff = handoff;
      current.packet = packet;
      current.loading = false;
      current.nodes = {};
      rememberTeam(handoff.team);

      renderHeader();
      renderContext(packet);
      // Only live additions are announced, not the whole transcript being drawn.
      transcript.setAttribute("aria-live", "off");
      window.setTimeout(function () { transcript.setAttribute("aria-live", "polite"); }, 0);
      clear(transcript);
      renderEarlier(packet, handoff);
      var messages = Array.isArray(data.messages) ? data.messages : [];
      messages.forEach(function (message) { addMessage(message, false); });
      var pending = current.pending;
      current.pending = [];
      pending.forEach(function (message) { addMessage(message, false); });
      if (!transcript.querySelector(".message")) {
        transcript.appendChild(el("li", "transcript__empty", "No messages yet."));
      }
      renderNotes(Array.isArray(data.notes) ? data.notes : []);
      if (stickToBottom) {
        scrollToBottom();
      } else {
        transcript.scrollTop = savedScroll;
      }
    }

    // Header, summary, facts and buttons: everything that follows the handoff's summary.
    function renderHeader() {
      var handoff = current.handoff || {};
      var packet = current.packet || {};
      clear(badges);
      if (handoff.urgency) { badges.appendChild(badge("urgency", handoff.urgency, URGENCY_LABELS)); }
      if (handoff.status) { badges.appendChild(badge("status", handoff.status, STATUS_LABELS)); }
      if (isMine(handoff)) { badges.appendChild(el("span", "badge badge--mine", "With you")); }
      summaryText.textContent = handoff.summary || packet.summary || "No summary was given.";

      clear(facts);
      function fact(name, value) {
        if (isBlank(value)) { return; }
        var item = el("div", "facts__item");
        item.appendChild(el("dt", null, name));
        var dd = el("dd");
        if (value instanceof Node) { dd.appendChild(value); } else { dd.textContent = String(value); }
        item.appendChild(dd);
        facts.appendChild(item);
      }
      var language = handoff.language || packet.language;
      fact("Language", language ? label(LANGUAGE_LABELS, language) + " (" + language + ")" : "");
      fact("Channel", handoff.channel || packet.channel);
      fact("Urgency", label(URGENCY_LABELS, handoff.urgency || packet.urgency));
      fact("Reason", label(REASON_LABELS, handoff.reason || packet.reason));
      fact("Team", handoff.team || packet.team);
      fact("Status", label(STATUS_LABELS, handoff.status));
      if (handoff.agent) { fact("Agent", handoff.agent === me.username ? handoff.agent + " (you)" : handoff.agent); }
      if (!isBlank(handoff.waiting_seconds)) {
        fact(handoff.status === "waiting" ? "Waiting" : "Waited", waitElement(handoff, "facts__wait"));
      }
      if (handoff.status === "waiting" && handoff.position) { fact("Place in line", String(handoff.position)); }
      if (handoff.escalated_at || handoff.created_at) { fact("Asked", timeElement(handoff.escalated_at || handoff.created_at)); }
      if (handoff.resolved_at) { fact("Resolved", timeElement(handoff.resolved_at)); }
      if (handoff.status === "resolved" && handoff.handback) {
        fact("Hand-back", handoff.handback === "done" ? "done: the bot has it again" : "pending (retried until the bot takes it)");
      }
      fact("Form", packet.active_form ? label({}, packet.active_form) : "");

      var mine = isMine(handoff);
      claimButton.hidden = handoff.status !== "waiting";
      releaseButton.hidden = !mine;
      handling.hidden = !mine;
      updateReplyState();
      setBusy(busyActions > 0);

      var item = queueItem(current.reference);
      if (item && handoff.reference) { fillQueueItem(item, handoff); }
    }

    function canReply() {
      return !!current && isMine(current.handoff);  // while a reload is under way, the last known state
    }

    function updateReplyState() {
      var handoff = current && current.handoff;
      var allowed = canReply();
      if (reply.disabled && allowed && current) { reply.value = drafts[current.reference] || reply.value; }
      reply.disabled = !allowed;
      sendButton.disabled = !allowed || replyForm.getAttribute("data-sending") === "1";
      if (!handoff) {
        replyHint.textContent = "";
      } else if (allowed) {
        replyHint.textContent = "Enter sends, Shift+Enter starts a new line.";
      } else if (handoff.status === "resolved") {
        replyHint.textContent = "This conversation is resolved.";
      } else if (handoff.status === "waiting") {
        replyHint.textContent = "Claim this conversation to reply.";
      } else if (handoff.agent) {
        replyHint.textContent = handoff.agent + " is handling this conversation.";
      } else {
        replyHint.textContent = "You cannot reply to this conversation.";
      }
    }

    // -- the context packet, in readable pieces; fields the server leaves out are skipped

    function table(headers, rows) {
      var node = el("table", "kv");
      if (headers) {
        var head = el("thead");
        var tr = el("tr");
        headers.forEach(function (h) {
          var th = el("th", null, h);
          th.scope = "col";
          tr.appendChild(th);
        });
        head.appendChild(tr);
        node.appendChild(head);
      }
      var tbody = el("tbody");
      rows.forEach(function (cells) {
        var tr = el("tr");
        cells.forEach(function (cell, index) {
          var td = el(index === 0 && !headers ? "th" : "td", null, cell);
          if (index === 0 && !headers) { td.scope = "row"; }
          tr.appendChild(td);
        });
        tbody.appendChild(tr);
      });
      node.appendChild(tbody);
      return node;
    }

    function section(title, count, content, open) {
      var details = el("details", "context__section");
      if (open) { details.open = true; }
      var summary = el("summary", null, title);
      if (count !== null && count !== undefined) {
        summary.appendChild(el("span", "context__count", " (" + count + ")"));
      }
      details.appendChild(summary);
      details.appendChild(content);
      context.appendChild(details);
    }

    function objectRows(object, skip) {
      return Object.keys(object).filter(function (key) {
        return !isBlank(object[key]) && !(skip && skip[key]);
      }).map(function (key) {
        return [label({}, key), display(object[key])];
      });
    }

    function renderContext(packet) {
      clear(context);
      var slots = packet.slots && typeof packet.slots === "object" && !Array.isArray(packet.slots) ? packet.slots : {};
      var slotRows = Object.keys(slots).filter(function (key) { return !isBlank(slots[key]); })
        .map(function (key) { return [key, display(slots[key])]; });
      if (slotRows.length) { section("Slots", slotRows.length, table(null, slotRows), true); }

      var triage = packet.triage;
      if (triage && typeof triage === "object") {
        var triageRows = objectRows(triage).map(function (row) {
          if (row[0] === "Urgency") { row[1] = label(URGENCY_LABELS, triage.urgency); }
          return row;
        });
        if (triageRows.length) { section("Triage", null, table(null, triageRows), true); }
      }

      var intents = Array.isArray(packet.intents) ? packet.intents.filter(Boolean) : [];
      if (intents.length) {
        section("Recent intents", intents.length, table(["Intent", "Confidence", "Message"], intents.map(function (i) {
          return [i.name || "", percent(i.confidence), i.text || ""];
        })), false);
      }

      var entities = packet.entities;
      if (Array.isArray(entities) && entities.length) {
        section("Entities", entities.length, table(["Entity", "Value", "From"], entities.filter(Boolean).map(function (e) {
          return [e.entity || e.name || "", isBlank(e.value) ? "" : display(e.value), e.text || ""];
        })), false);
      } else if (entities && typeof entities === "object" && !Array.isArray(entities)) {
        var entityRows = objectRows(entities);
        if (entityRows.length) { section("Entities", entityRows.length, table(null, entityRows), false); }
      }

      var faqs = Array.isArray(packet.faq_candidates) ? packet.faq_candidates.filter(Boolean) : [];
      if (faqs.length) {
        section("FAQ answers tried", faqs.length, table(["FAQ", "Question", "Score"], faqs.map(function (f) {
          return [f.id || "", f.question || "", percent(f.score)];
        })), false);
      }

      if (!context.firstChild) {
        context.appendChild(el("p", "hint", "The bot passed on no slots, intents or triage."));
      }
    }

    // -- transcript

    var SENDER_NAMES = { citizen: "Citizen", bot: "Bot", system: "System" };
    var DELIVERY_LABELS = { pending: "Sending…", failed: "Not delivered" };

    function messageNode(message) {
      var sender = has(SENDER_NAMES, message.sender) || message.sender === "agent" ? message.sender : "system";
      var item = el("li", "message message--" + sender);
      if (!isBlank(message.id)) { item.setAttribute("data-id", String(message.id)); }
      var meta = el("p", "message__meta");
      var who = SENDER_NAMES[sender];
      if (sender === "agent") {
        who = message.agent === me.username ? "You" : "Agent" + (message.agent ? " " + message.agent : "");
      }
      meta.appendChild(el("span", "message__who", who));
      var time = timeElement(message.at, "message__time");
      if (time.textContent) {
        meta.appendChild(document.createTextNode(" "));
        meta.appendChild(time);
      }
      if (sender === "citizen" && message.intent) {
        meta.appendChild(el("span", "message__intent",
          "understood as " + message.intent + (isBlank(message.confidence) ? "" : " " + percent(message.confidence))));
      }
      if (sender === "agent" && has(DELIVERY_LABELS, message.delivery)) {
        item.classList.add("message--" + message.delivery);
        meta.appendChild(el("span", "message__delivery message__delivery--" + message.delivery,
          DELIVERY_LABELS[message.delivery]));
      }
      item.appendChild(meta);
      // A button press or the page's own greeting reaches Rasa as "/intent{...}": name the intent
      // rather than show the payload.
      var payload = sender === "citizen" ? /^\/([\w.-]+)/.exec(message.text || "") : null;
      if (payload) {
        item.classList.add("message--payload");
        item.appendChild(el("p", "message__text", "(button or command: " + payload[1] + ")"));
      } else {
        item.appendChild(el("p", "message__text", message.text || ""));
      }
      return item;
    }

    // The packet's transcript is the conversation with the bot before the handoff; `messages`
    // only has what came after (docs/handoff.md), so both are shown, with a line between them.
    function renderEarlier(packet, handoff) {
      var earlier = Array.isArray(packet.transcript) ? packet.transcript.filter(Boolean) : [];
      if (!earlier.length) { return; }
      transcript.appendChild(el("li", "transcript__divider", "With the bot, before the handoff"));
      earlier.forEach(function (entry) {
        var node = messageNode(entry);
        node.classList.add("message--earlier");
        transcript.appendChild(node);
      });
      var divider = el("li", "transcript__divider transcript__divider--handoff", "Handed to a person");
      var time = timeElement(handoff.escalated_at || handoff.created_at || packet.created_at);
      if (time.textContent) {
        divider.appendChild(document.createTextNode(" · "));
        divider.appendChild(time);
      }
      transcript.appendChild(divider);
    }

    function nearBottom() {
      return transcript.scrollHeight - transcript.scrollTop - transcript.clientHeight < STICKY_BOTTOM_PX;
    }

    function scrollToBottom() {
      transcript.scrollTop = transcript.scrollHeight;
      jumpLatest.hidden = true;
    }

    // Adds a message to the open conversation, or updates it if its id is already shown (the
    // answer to a POST and the live event carry the same message; its delivery may change).
    function addMessage(message, live) {
      if (!message || !current) { return; }
      if (message.reference && message.reference !== current.reference) { return; }
      if (current.loading) {
        current.pending.push(message);
        return;
      }
      var id = isBlank(message.id) ? null : String(message.id);
      var node = messageNode(message);
      if (id && has(current.nodes, id)) {
        var old = current.nodes[id];
        if (old.parentNode) { old.parentNode.replaceChild(node, old); }
        current.nodes[id] = node;
        return;
      }
      var stick = nearBottom() || (message.sender === "agent" && message.agent === me.username);
      var empty = transcript.querySelector(".transcript__empty");
      if (empty) { transcript.removeChild(empty); }
      transcript.appendChild(node);
      if (id) { current.nodes[id] = node; }
      if (!live) { return; }
      if (stick) {
        scrollToBottom();
      } else {
        jumpLatest.hidden = false;
      }
    }

    // -- notes

    function noteNode(note) {
      var item = el("li", "note");
      var meta = el("p", "note__meta");
      meta.appendChild(el("span", "note__who", note.agent === me.username ? "You" : (note.agent || "Agent")));
      var time = timeElement(note.at, "note__time");
      if (time.textContent) {
        meta.appendChild(document.createTextNode(" "));
        meta.appendChild(time);
      }
      item.appendChild(meta);
      item.appendChild(el("p", "note__text", note.text || ""));
      return item;
    }

    function renderNotes(notes) {
      clear(notesList);
      notes.forEach(addNote);
      notesList.classList.toggle("is-empty", !notesList.firstChild);
    }

    function addNote(note) {
      if (!note || typeof note !== "object") { return; }
      if (!isBlank(note.id)) {
        var known = notesList.querySelectorAll(".note");
        for (var i = 0; i < known.length; i++) {
          if (known[i].getAttribute("data-id") === String(note.id)) { return; }
        }
      }
      var node = noteNode(note);
      if (!isBlank(note.id)) { node.setAttribute("data-id", String(note.id)); }
      notesList.appendChild(node);
      notesList.classList.remove("is-empty");
    }

    // ------------------------------------------------------------ actions

    function setBusy(on) {
      [claimButton, releaseButton, transferButton, resolveButton].forEach(function (button) {
        button.disabled = on;
      });
    }

    // Runs one state change on the open conversation; its answer is the handoff's new summary.
    function act(reference, path, payload, words) {
      busyActions += 1;
      setBusy(true);
      setStatus(words.doing, "info");
      return api("POST", conversationPath(reference, path), payload).then(function (summary) {
        if (current && current.reference === reference && summary && typeof summary === "object") {
          current.handoff = summary;
          renderHeader();
        }
        setStatus(words.done, "ok");
        scheduleQueue();
        return summary;
      }, function (error) {
        showError(words.failed, error, words.conflict);
        if (error instanceof ApiError && (error.status === 409 || error.status === 404) &&
            current && current.reference === reference) {
          openConversation(reference, { keepScroll: true });  // show who has it now
        }
        scheduleQueue();
        throw error;
      }).then(function (summary) {
        busyActions -= 1;
        setBusy(busyActions > 0);
        return summary;
      }, function () {
        busyActions -= 1;
        setBusy(busyActions > 0);
        return null;
      });
    }

    function focusAfterChange() {
      if (canReply()) {
        reply.focus();
      } else if (!claimButton.hidden) {
        claimButton.focus();
      } else {
        heading.focus();
      }
    }

    claimButton.addEventListener("click", function () {
      if (!current) { return; }
      act(current.reference, "/claim", undefined, {
        doing: "Claiming…",
        done: "You have this conversation. The citizen can read your replies.",
        failed: "Could not claim it.",
        conflict: "Someone else claimed it first."
      }).then(function (summary) { if (summary) { focusAfterChange(); } });
    });

    releaseButton.addEventListener("click", function () {
      if (!current) { return; }
      saveDraft();
      act(current.reference, "/release", undefined, {
        doing: "Releasing…",
        done: "Released: the conversation is back in the queue.",
        failed: "Could not release it.",
        conflict: "It is no longer yours to release."
      }).then(function (summary) { if (summary) { focusAfterChange(); } });
    });

    transferForm.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!current) { return; }
      var team = transferTeam.value.trim();
      if (!team) {
        setStatus("Enter the team to transfer the conversation to.", "error");
        transferTeam.focus();
        return;
      }
      act(current.reference, "/transfer", { team: team }, {
        doing: "Transferring…",
        done: "Transferred to team " + team + ".",
        failed: "Could not transfer it.",
        conflict: "It is no longer yours to transfer."
      }).then(function (summary) {
        if (summary) {
          transferTeam.value = "";
          focusAfterChange();
        }
      });
    });

    resolveForm.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!current) { return; }
      var note = resolveNote.value.trim();
      var reference = current.reference;
      act(reference, "/resolve", note ? { note: note } : {}, {
        doing: "Resolving…",
        done: "Resolved. The bot takes the conversation over again.",
        failed: "Could not resolve it.",
        conflict: "It is no longer yours to resolve."
      }).then(function (summary) {
        if (!summary) { return; }
        resolveNote.value = "";
        delete drafts[reference];
        if (current && current.reference === reference) {
          reply.value = "";
          openConversation(reference, { keepScroll: true });  // the closing note and system messages
        }
        focusAfterChange();
      });
    });

    replyForm.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!canReply() || replyForm.getAttribute("data-sending") === "1") { return; }
      var text = reply.value.trim();
      if (!text) {
        reply.focus();
        return;
      }
      var reference = current.reference;
      replyForm.setAttribute("data-sending", "1");
      sendButton.disabled = true;
      api("POST", conversationPath(reference, "/messages"), { text: text }).then(function (message) {
        if (current && current.reference === reference) {
          reply.value = "";
          if (message && typeof message === "object") {
            if (!message.reference) { message.reference = reference; }
            addMessage(message, true);
            if (message.delivery === "failed") {
              setStatus("The reply was saved but could not be delivered to the citizen.", "error");
            }
          }
        }
        delete drafts[reference];
      }, function (error) {
        showError("Your reply was not sent.", error, "Only the agent who has claimed the conversation can reply.");
        if (error instanceof ApiError && error.status === 409 && current && current.reference === reference) {
          openConversation(reference, { keepScroll: true });
        }
      }).then(function () {
        replyForm.removeAttribute("data-sending");
        updateReplyState();
        if (canReply()) { reply.focus(); }
      });
    });

    reply.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing && !event.altKey && !event.ctrlKey && !event.metaKey) {
        event.preventDefault();
        if (typeof replyForm.requestSubmit === "function") {
          replyForm.requestSubmit();
        } else {
          replyForm.dispatchEvent(new Event("submit", { cancelable: true }));
        }
      }
    });

    reply.addEventListener("input", function () {
      if (current) { drafts[current.reference] = reply.value; }
    });

    noteForm.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!current) { return; }
      var text = noteText.value.trim();
      if (!text) {
        noteText.focus();
        return;
      }
      var reference = current.reference;
      addNoteButton.disabled = true;
      api("POST", conversationPath(reference, "/notes"), { text: text }).then(function (note) {
        if (current && current.reference === reference) {
          addNote(note);
          noteText.value = "";
        }
        setStatus("Note added.", "ok");
      }, function (error) {
        showError("The note was not saved.", error);
      }).then(function () {
        addNoteButton.disabled = false;
      });
    });

    logoutButton.addEventListener("click", function () {
      logoutButton.disabled = true;
      leaving = true;
      window.clearTimeout(queueTimer);
      if (events) { events.close(); }
      api("POST", "/console/logout").then(goToLogin, function (error) {
        if (error instanceof ApiError && error.status === 401) { return; }
        leaving = false;
        logoutButton.disabled = false;
        showError("Could not log out.", error);
        connectEvents();
      });
    });

    jumpLatest.addEventListener("click", function () {
      scrollToBottom();
      transcript.focus();
    });

    transcript.addEventListener("scroll", function () {
      if (!jumpLatest.hidden && nearBottom()) { jumpLatest.hidden = true; }
    });

    // ------------------------------------------------------------ queue interaction

    queueList.addEventListener("click", function (event) {
      var item = event.target.closest ? event.target.closest(".queue-item") : null;
      if (!item) { return; }
      openConversation(item.getAttribute("data-reference"));
    });

    queueList.addEventListener("keydown", function (event) {
      var item = event.target.closest ? event.target.closest(".queue-item") : null;
      if (!item) { return; }
      var items = Array.prototype.slice.call(queueList.querySelectorAll(".queue-item"));
      var index = items.indexOf(item);
      var next = null;
      if (event.key === "ArrowDown") { next = items[index + 1]; }
      if (event.key === "ArrowUp") { next = items[index - 1]; }
      if (event.key === "Home") { next = items[0]; }
      if (event.key === "End") { next = items[items.length - 1]; }
      if (next) {
        event.preventDefault();
        next.focus();
      }
    });

    filterForm.addEventListener("submit", function (event) {
      event.preventDefault();
      saveFilters();
      loadQueue();
    });
    [filterStatus, filterLanguage].forEach(function (select) {
      select.addEventListener("change", function () {
        saveFilters();
        loadQueue();
      });
    });
    filterTeam.addEventListener("input", function () {
      window.clearTimeout(teamFilterTimer);
      teamFilterTimer = window.setTimeout(function () {
        saveFilters();
        loadQueue();
      }, TEAM_FILTER_DEBOUNCE_MS);
    });

    // ------------------------------------------------------------ live events

    function parseEvent(event) {
      try { return JSON.parse(event.data); } catch (e) { return null; }
    }

    function setLive(state, text) {
      liveStatus.setAttribute("data-state", state);
      liveText.textContent = text;
    }

    function onHandoffEvent(summary) {
      if (!summary || !summary.reference) { return; }
      scheduleQueue();
      if (!current || current.reference !== summary.reference || current.loading) { return; }
      var before = current.handoff || {};
      current.handoff = summary;
      renderHeader();
      if (before.agent !== summary.agent && summary.agent && summary.agent !== me.username) {
        setStatus(summary.agent + " now has this conversation.", "info");
      } else if (before.status !== summary.status && summary.status === "resolved" && busyActions === 0) {
        setStatus("This conversation was resolved" + (summary.agent && summary.agent !== me.username ? " by " + summary.agent : "") + ".", "info");
      } else if (before.agent === me.username && summary.agent !== me.username && busyActions === 0 && summary.status !== "resolved") {
        setStatus("This conversation is no longer with you.", "info");
      }
    }

    function onMessageEvent(message) {
      if (!message || !message.reference) { return; }
      if (current && current.reference === message.reference) {
        addMessage(message, true);
      } else if (message.sender === "citizen") {
        markUnread(message.reference);
      }
    }

    // One EventSource for the page. It reconnects by itself (sending Last-Event-ID); if the
    // server closes it for good (a 401, a restart answering 502), the session is checked and a
    // new one opened a little later, and everything is re-read since events may have been missed.
    function connectEvents() {
      if (typeof window.EventSource !== "function") {
        setLive("offline", "No live updates in this browser");
        return;
      }
      var source = new window.EventSource("/api/console/events");
      events = source;
      source.addEventListener("open", function () {
        setLive("live", "Live");
        if (eventsBroken) {
          eventsBroken = false;
          loadQueue();
          if (current) { openConversation(current.reference, { keepScroll: true }); }
        }
      });
      source.addEventListener("error", function () {
        if (events !== source) { return; }
        if (source.readyState === window.EventSource.CLOSED) {
          setLive("offline", "Offline: retrying…");
          eventsBroken = true;
          api("GET", "/api/console/me").then(function () {
            window.setTimeout(function () { if (events === source) { connectEvents(); } }, 3000);
          }, function (error) {
            if (error instanceof ApiError && error.status === 401) { return; }
            window.setTimeout(function () { if (events === source) { connectEvents(); } }, 5000);
          });
        } else {
          setLive("reconnecting", "Reconnecting…");
          eventsBroken = true;
        }
      });
      source.addEventListener("handoff", function (event) { onHandoffEvent(parseEvent(event)); });
      source.addEventListener("message", function (event) { onMessageEvent(parseEvent(event)); });
      source.addEventListener("note", function (event) {
        var note = parseEvent(event);  // shown live only if the event says whose note it is
        if (note && current && !current.loading && note.reference === current.reference) { addNote(note); }
      });
      source.addEventListener("logout", function () {  // the session ended (expired, or logged out elsewhere)
        source.close();
        goToLogin();
      });
    }

    // ------------------------------------------------------------ start

    loadFilters();
    updateReplyState();
    loadQueue();
    connectEvents();
    window.setInterval(tick, 1000);
    var wanted = /^#c=([^&]+)$/.exec(window.location.hash);
    if (wanted) {
      var reference = "";
      try { reference = decodeURIComponent(wanted[1]); } catch (e) { reference = ""; }
      if (reference) { openConversation(reference); }
    }
  }
})();
