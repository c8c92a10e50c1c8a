// carbot web chat: send messages, taps and files; show prompts as they arrive (server-sent events).
"use strict";

(function () {
  const chat = document.getElementById("chat");
  if (!chat) return;
  const base = chat.dataset.base;
  const nonce = chat.dataset.nonce;
  const maxUpload = Number(chat.dataset.maxUpload || 0);
  const answerLimit = Number(chat.dataset.answerLimit || 0);
  const log = document.getElementById("log");
  const form = document.getElementById("composer");
  const text = document.getElementById("text");
  const file = document.getElementById("file");
  const fileName = document.getElementById("file-name");
  const status = document.getElementById("status");
  const sendButton = document.getElementById("send");
  const count = document.getElementById("text-count");

  // Characters as the server counts them (code points: an emoji is one).
  function length(words) {
    return Array.from(words).length;
  }

  function number(n) {
    return n.toLocaleString("en-GB");
  }

  function showCount() {
    const n = length(text.value);
    const over = answerLimit && n > answerLimit;
    count.classList.toggle("over", Boolean(over));
    if (!n) count.textContent = "Up to " + number(answerLimit) + " characters.";
    else if (over)
      count.textContent =
        number(n) + " of " + number(answerLimit) + " characters: " +
        number(n - answerLimit) + " too many to send.";
    else count.textContent = number(n) + " of " + number(answerLimit) + " characters.";
  }

  function eventId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function say(message) {
    status.textContent = message || "";
  }

  function element(tag, className, content) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (content !== undefined) node.textContent = content;
    return node;
  }

  function render(b) {
    const li = element("li", "bubble " + b.sender + (b.answered ? " closed" : ""));
    li.id = "m-" + b.id;
    if (b.delivery_id) li.dataset.delivery = String(b.delivery_id);
    li.appendChild(element("span", "visually-hidden", b.sender === "bot" ? "carbot:" : "You:"));
    if (b.context) li.appendChild(element("p", "context", b.context));
    li.appendChild(element("p", "text", b.text));
    if (b.files && b.files.length) {
      const files = element("ul", "files");
      b.files.forEach((f) => files.appendChild(element("li", "", "📎 " + f)));
      li.appendChild(files);
    }
    if (b.answered) {
      li.appendChild(element("p", "answered", b.answered));
    } else if (b.choices && b.choices.length) {
      const group = element("div", "choices");
      group.setAttribute("role", "group");
      group.setAttribute("aria-label", "Answer options");
      b.choices.forEach((c) => {
        const button = element("button", "choice", c.label);
        button.type = "button";
        button.dataset.value = c.value;
        group.appendChild(button);
      });
      li.appendChild(group);
    }
    return li;
  }

  function add(b) {
    const existing = document.getElementById("m-" + b.id);
    const node = render(b);
    if (existing) existing.replaceWith(node);
    else log.appendChild(node);
    node.scrollIntoView({ block: "end" });
    return node;
  }

  function mine(words, files) {
    add({ id: "me-" + eventId(), sender: "me", text: words, files: files || [], choices: [] });
  }

  function closePrompt(deliveryId, label) {
    const prompt = log.querySelector('[data-delivery="' + deliveryId + '"]');
    if (!prompt) return;
    prompt.classList.add("closed");
    const group = prompt.querySelector(".choices");
    if (group) group.remove();
    if (!prompt.querySelector(".answered")) prompt.appendChild(element("p", "answered", label));
  }

  async function post(fields) {
    const body = new FormData();
    body.append("nonce", nonce);
    body.append("event_id", eventId());
    Object.entries(fields).forEach(([k, v]) => {
      if (v !== undefined && v !== null && v !== "") body.append(k, v);
    });
    for (let attempt = 0; attempt < 2; attempt++) {
      let response;
      try {
        response = await fetch(base + "/send", { method: "POST", body: body });
      } catch (err) {
        say("Connection lost — trying again…");
        await new Promise((r) => setTimeout(r, 1500));
        continue; // the same event id: a repeat is never stored twice
      }
      const data = await response.json().catch(() => ({}));
      if (!response.ok) {
        say(data.error || "Sorry, that didn't work. Please try again.");
        return false;
      }
      say("");
      if (data.answered) closePrompt(data.answered.delivery_id, data.answered.label);
      (data.replies || []).forEach(add);
      return true;
    }
    say("Couldn't reach carbot. Your message was not sent — please try again.");
    return false;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const words = text.value.trim();
    const upload = file.files && file.files[0];
    if (!words && !upload) {
      say("Type a message or choose a file first.");
      text.focus();
      return;
    }
    if (answerLimit && length(words) > answerLimit) {
      say(
        "That's " + number(length(words)) + " characters; the limit is " + number(answerLimit) +
        ". Nothing was sent — please shorten it or send it in parts."
      );
      text.focus();
      return;
    }
    if (upload && maxUpload && upload.size > maxUpload) {
      say("That file is too big to send. Please choose a smaller one.");
      return;
    }
    sendButton.disabled = true;
    say("Sending…");
    mine(words || (upload ? "(file)" : ""), upload ? [upload.name] : []);
    const ok = await post({ text: words, file: upload });
    sendButton.disabled = false;
    if (ok) {
      form.reset();
      fileName.textContent = "";
      showCount();
    }
    text.focus();
  });

  text.addEventListener("input", showCount);

  text.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  file.addEventListener("change", () => {
    const chosen = file.files && file.files[0];
    fileName.textContent = chosen ? "Chosen: " + chosen.name : "";
  });

  log.addEventListener("click", async (event) => {
    const button = event.target.closest("button.choice");
    if (!button) return;
    const bubble = button.closest(".bubble");
    const deliveryId = bubble.dataset.delivery;
    bubble.querySelectorAll("button.choice").forEach((b) => (b.disabled = true));
    mine(button.textContent);
    const ok = await post({ choice: button.dataset.value, delivery_id: deliveryId });
    if (!ok) bubble.querySelectorAll("button.choice").forEach((b) => (b.disabled = false));
    else if (!deliveryId) bubble.querySelector(".choices").remove();
  });

  async function reload() {
    const response = await fetch(base + "/history");
    if (!response.ok) return;
    const data = await response.json();
    log.replaceChildren(...data.bubbles.map(render));
  }

  if (window.EventSource) {
    let dropped = false;
    const events = new EventSource(base + "/events");
    events.addEventListener("bubble", (event) => add(JSON.parse(event.data)));
    events.addEventListener("error", () => (dropped = true));
    events.addEventListener("open", () => {
      if (dropped) reload(); // anything sent while we were away is in the history
      dropped = false;
      chat.dataset.live = "yes";
    });
  }
})();
