// Web chat client for the Rasa socket.io channel.
// Keeps the session id and the transcript in localStorage so a reload
// continues the same conversation; "New conversation" forgets both.
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("chat-config").textContent);
  var STORE_KEY = "citybot.chat.v1";
  var MAX_STORED = 200;
  var log = document.getElementById("log");
  var form = document.getElementById("composer");
  var input = document.getElementById("message");
  var sendButton = document.getElementById("send");
  var statusLine = document.getElementById("status");
  var newChat = document.getElementById("new-chat");
  var typing = null;
  var state = load();
  var socket = null;

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
    var who = document.createElement("span");
    who.className = "msg__who";
    who.textContent = message.from === "bot" ? "Assistant says: " : "You said: ";
    item.appendChild(who);
    var body = document.createElement("div");
    renderText(body, message.text || "");
    item.appendChild(body);
    if (message.buttons && message.buttons.length) {
      var group = document.createElement("div");
      group.className = "replies";
      group.setAttribute("role", "group");
      group.setAttribute("aria-label", "Suggested answers");
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

  function showTyping(on) {
    if (on && !typing) {
      typing = document.createElement("li");
      typing.className = "typing";
      typing.textContent = "The assistant is typing…";
      log.appendChild(typing);
    } else if (!on && typing) {
      typing.remove();
      typing = null;
    }
  }

  function setStatus(text) { statusLine.textContent = text; }

  function send(payload, shownText) {
    if (!socket || !socket.connected || !state.sessionId) {
      setStatus("Not connected. Your message was not sent; please try again in a moment.");
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
      setStatus("Connected");
      socket.emit("session_request", { session_id: state.sessionId });
    });
    socket.on("session_confirm", function (sessionId) {
      var isNew = sessionId !== state.sessionId;
      state.sessionId = sessionId;
      save();
      sendButton.disabled = false;
      setStatus("Connected");
      if (isNew && state.messages.length === 0) {
        send("/greet");
      }
    });
    socket.on("bot_uttered", onBotMessage);
    socket.on("disconnect", function () {
      setStatus("Connection lost. Reconnecting…");
      sendButton.disabled = true;
      showTyping(false);
    });
    socket.on("connect_error", function () {
      setStatus("Cannot reach the assistant right now. Retrying…");
      sendButton.disabled = true;
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text) { input.focus(); return; }
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

  state.messages.forEach(function (message) { addMessage(message, false); });
  sendButton.disabled = true;
  connect();
})();
