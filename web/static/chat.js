// Web chat client for the Rasa socket.io channel.
// Keeps the session id and the transcript in localStorage so a reload
// continues the same conversation; "New conversation" forgets both.
// The page speaks every configured language (its words are in #chat-config, from
// web/translations.yml; elements name theirs with data-text* attributes). The citizen's choice
// is kept apart from the conversation, and the bot is told whenever the two differ: the
// greeting carries the language, a later choice sends /change_language.
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("chat-config").textContent);
  var STORE_KEY = "citybot.chat.v1";
  var LANGUAGE_KEY = "citybot.language";
  var MAX_STORED = 200;
  // Arrow keys change a <select> at every press: tell the bot once the citizen has settled.
  var LANGUAGE_SETTLE_MS = 600;
  var log = document.getElementById("log");
  var form = document.getElementById("composer");
  var input = document.getElementById("message");
  var sendButton = document.getElementById("send");
  var statusLine = document.getElementById("status");
  var newChat = document.getElementById("new-chat");
  var languageSelect = document.getElementById("language");
  var typing = null;
  var state = load();  // sessionId, messages, and language: the one the bot was last told
  var socket = null;
  var language = initialLanguage();
  var languageTimer = null;

  function isLanguage(code) {
    return typeof code === "string" && Object.prototype.hasOwnProperty.call(config.text, code);
  }

  // A choice made earlier on this device, else the browser's first configured language, else the default.
  function initialLanguage() {
    var saved = null;
    try { saved = window.localStorage.getItem(LANGUAGE_KEY); } catch (e) { /* storage off */ }
    if (isLanguage(saved)) { return saved; }
    var wanted = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language];
    for (var i = 0; i < wanted.length; i++) {
      var code = String(wanted[i] || "").split("-")[0].toLowerCase();
      if (isLanguage(code)) { return code; }
    }
    return config.defaultLanguage;
  }

  function t(key) { return config.text[language][key]; }

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (whole, name) {
      return Object.prototype.hasOwnProperty.call(values, name) ? values[name] : whole;
    });
  }

  function each(selector, apply) {
    Array.prototype.forEach.call(document.querySelectorAll(selector), apply);
  }

  // Puts the words of `code` everywhere on the page, messages already shown included.
  function applyLanguage(code) {
    language = code;
    document.documentElement.lang = code;
    document.title = t("page_title");
    languageSelect.value = code;
    each("[data-text]", function (el) { el.textContent = t(el.getAttribute("data-text")); });
    each("[data-text-bold]", function (el) {
      el.textContent = "";
      renderText(el, t(el.getAttribute("data-text-bold")));
    });
    each("[data-text-placeholder]", function (el) {
      el.setAttribute("placeholder", t(el.getAttribute("data-text-placeholder")));
    });
    each("[data-text-aria-label]", function (el) {
      el.setAttribute("aria-label", t(el.getAttribute("data-text-aria-label")));
    });
  }

  function chooseLanguage(code) {
    if (!isLanguage(code) || code === language) { return; }
    applyLanguage(code);
    try { window.localStorage.setItem(LANGUAGE_KEY, code); } catch (e) { /* storage full or off */ }
    window.clearTimeout(languageTimer);
    languageTimer = window.setTimeout(tellBotLanguage, LANGUAGE_SETTLE_MS);
  }

  function languagePayload(intent) {
    return "/" + intent + JSON.stringify({ language: language });
  }

  // If the conversation is in another language than the page, asks the bot to switch, leaving a
  // small note in the transcript instead of the payload. Offline, it waits for the next connect.
  function tellBotLanguage() {
    window.clearTimeout(languageTimer);
    languageTimer = null;
    if (!state.language || state.language === language || !socket || !socket.connected || !state.sessionId) {
      return;
    }
    addMessage({ from: "note", text: fill(t("language_changed"), { language: config.languages[language] }) }, true);
    state.language = language;
    save();
    send(languagePayload("change_language"));
  }

  function load() {
    try {
      var saved = JSON.parse(window.localStorage.getItem(STORE_KEY) || "null");
      if (saved && typeof saved.sessionId === "string" && Array.isArray(saved.messages)) {
        return saved;
      }
    } catch (e) { /* a corrupt entry starts a new conversation */ }
    return { sessionId: null, messages: [] };
  }

  function save() {
    state.messages = state.messages.slice(-MAX_STORED);
    try { window.localStorage.setItem(STORE_KEY, JSON.stringify(state)); } catch (e) { /* storage full or off */ }
  }

  // Renders text safely: no HTML from the server is ever interpreted.
  // Supports links, **bold** and line breaks.
  function renderText(parent, text) {
    var lines = String(text).split("\n");
    lines.forEach(function (line, index) {
      if (index > 0) { parent.appendChild(document.createElement("br")); }
      var parts = line.split(/(https?:\/\/[^\s<>"']+|\*\*[^*]+\*\*)/g);
      parts.forEach(function (part) {
        if (!part) { return; }
        if (/^https?:\/\//.test(part)) {
          var trail = part.match(/[.,;:)]+$/);
          var url = trail ? part.slice(0, -trail[0].length) : part;
          var a = document.createElement("a");
          a.href = url;
          a.textContent = url;
          a.target = "_blank";
          a.rel = "noopener noreferrer";
          parent.appendChild(a);
          if (trail) { parent.appendChild(document.createTextNode(trail[0])); }
        } else if (/^\*\*[^*]+\*\*$/.test(part)) {
          var strong = document.createElement("strong");
          strong.textContent = part.slice(2, -2);
          parent.appendChild(strong);
        } else {
          parent.appendChild(document.createTextNode(part));
        }
      });
    });
  }

  function addMessage(message, remember) {
    var item = document.createElement("li");
    item.className = "msg msg--" + message.from;
    if (message.from !== "note") {
      var who = document.createElement("span");
      who.className = "msg__who";
      who.setAttribute("data-text", message.from === "bot" ? "bot_says" : "you_said");
      who.textContent = t(who.getAttribute("data-text"));
      item.appendChild(who);
      item.appendChild(document.createTextNode(" "));
    }
    var body = document.createElement("div");
    renderText(body, message.text || "");
    item.appendChild(body);
    if (message.buttons && message.buttons.length) {
      var group = document.createElement("div");
      group.className = "replies";
      group.setAttribute("role", "group");
      group.setAttribute("data-text-aria-label", "suggested_answers");
      group.setAttribute("aria-label", t("suggested_answers"));
      message.buttons.forEach(function (button) {
        var b = document.createElement("button");
        b.type = "button";
        b.textContent = button.title;
        b.disabled = !!message.answered;
        b.addEventListener("click", function () {
          message.answered = true;
          Array.prototype.forEach.call(group.querySelectorAll("button"), function (other) { other.disabled = true; });
          save();
          send(button.payload, button.title);
        });
        group.appendChild(b);
      });
      item.appendChild(group);
    }
    log.insertBefore(item, typing);
    if (remember) {
      state.messages.push(message);
      save();
    }
    item.scrollIntoView({ block: "end" });
    return item;
  }

  // The bot answers in a second or two; while a person from the city's team has the
  // conversation nothing comes back at once, so the indicator must not stay up.
  var typingTimer = null;
  var TYPING_MS = 8000;

  function showTyping(on) {
    clearTimeout(typingTimer);
    if (on) { typingTimer = setTimeout(function () { showTyping(false); }, TYPING_MS); }
    if (on && !typing) {
      typing = document.createElement("li");
      typing.className = "typing";
      typing.setAttribute("data-text", "typing");
      typing.textContent = t("typing");
      log.appendChild(typing);
    } else if (!on && typing) {
      typing.remove();
      typing = null;
    }
  }

  function setStatus(key) {
    statusLine.setAttribute("data-text", key);
    statusLine.textContent = t(key);
  }

  function send(payload, shownText) {
    if (!socket || !socket.connected || !state.sessionId) {
      setStatus("status_not_sent");
      return false;
    }
    if (shownText) { addMessage({ from: "user", text: shownText }, true); }
    socket.emit("user_uttered", { message: payload, session_id: state.sessionId });
    showTyping(true);
    return true;
  }

  function onBotMessage(data) {
    showTyping(false);
    if (!data || typeof data !== "object") { return; }
    var buttons = (data.quick_replies || data.buttons || []).map(function (b) {
      return { title: String(b.title), payload: String(b.payload) };
    });
    var text = data.text || "";
    if (!text && data.attachment && data.attachment.payload && data.attachment.payload.src) {
      text = data.attachment.payload.src;
    }
    if (!text && !buttons.length) { return; }
    addMessage({ from: "bot", text: text, buttons: buttons }, true);
  }

  function connect() {
    socket = window.io(config.rasaUrl, { path: "/socket.io", transports: ["websocket", "polling"] });
    socket.on("connect", function () {
      setStatus("status_connected");
      socket.emit("session_request", { session_id: state.sessionId });
    });
    socket.on("session_confirm", function (sessionId) {
      var isNew = sessionId !== state.sessionId;
      state.sessionId = sessionId;
      save();
      sendButton.disabled = false;
      setStatus("status_connected");
      if (isNew && state.messages.length === 0) {
        state.language = language;  // the bot greets in the page's language from the start
        save();
        send(languagePayload("greet"));
      } else if (!state.language) {
        state.language = language;  // a conversation kept from before the page had languages
        save();
      } else {
        tellBotLanguage();  // chosen while offline
      }
    });
    socket.on("bot_uttered", onBotMessage);
    socket.on("disconnect", function () {
      setStatus("status_lost");
      sendButton.disabled = true;
      showTyping(false);
    });
    socket.on("connect_error", function () {
      setStatus("status_unreachable");
      sendButton.disabled = true;
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text) { input.focus(); return; }
    if (languageTimer) { tellBotLanguage(); }  // the switch first, so the bot reads this in the new language
    if (send(text, text)) { input.value = ""; }
    input.focus();
  });

  newChat.addEventListener("click", function () {
    state = { sessionId: null, messages: [] };
    save();
    Array.prototype.slice.call(log.querySelectorAll(".msg")).forEach(function (n) { n.remove(); });
    if (socket) { socket.emit("session_request", { session_id: null }); }
    input.focus();
  });

  languageSelect.addEventListener("change", function () { chooseLanguage(languageSelect.value); });

  applyLanguage(language);
  state.messages.forEach(function (message) { addMessage(message, false); });
  sendButton.disabled = true;
  connect();
})();
