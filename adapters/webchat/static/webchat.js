// carbot web chat: send messages, taps and files; show prompts as they arrive (server-sent events).
"use strict";

(function () {
  const chat = document.getElementById("chat");
  if (!chat) return;
  const base = chat.dataset.base;
  const nonce = chat.dataset.nonce;
  const maxUpload = Number(chat.dataset.maxUpload || 0);
  const conversation = document.getElementById("conversation");
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

  function say(message, kind) {
    status.textContent = message || "";
    status.classList.toggle("note", kind === "note");
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

  // The room the sticky composer takes at the bottom of the window (none when it is not sticky):
  // the page's scroll-padding, so that nothing scrolled into view ends up under it.
  function composerSpace() {
    const sticky = getComputedStyle(form).position === "sticky";
    const space = sticky ? form.getBoundingClientRect().height : 0;
    document.documentElement.style.setProperty("--composer-space", space + "px");
    return space;
  }

  // Scroll so that everything from `first` to `last` shows above the composer. When that is
  // taller than the room, `last` (a new reply) is what must show — or `first` with
  // { keep: "first" } (the open question on arrival) — whole if it fits, else from its top.
  function reveal(first, last, options) {
    last = last || first;
    const room = window.innerHeight - composerSpace() - 16;
    const span = (a, b) => b.getBoundingClientRect().bottom - a.getBoundingClientRect().top;
    if (span(first, last) <= room) {
      last.scrollIntoView({ block: "end" });
      return;
    }
    const kept = options && options.keep === "first" ? first : last;
    kept.scrollIntoView({ block: span(kept, kept) <= room ? "end" : "start" });
  }

  // Focus after a tap: the reply's first button if it asks something, else the reply itself.
  function focusReply(node) {
    const button = node.querySelector("button.choice");
    if (button) {
      button.focus({ preventScroll: true });
      return;
    }
    node.tabIndex = -1;
    node.focus({ preventScroll: true });
  }

  function add(b) {
    const existing = document.getElementById("m-" + b.id);
    const node = render(b);
    if (existing) existing.replaceWith(node);
    else log.appendChild(node);
    return node;
  }

  function mine(words, files) {
    const node = add({ id: "me-" + eventId(), sender: "me", text: words, files: files || [], choices: [] });
    reveal(node);
    return node;
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
        return null;
      }
      say("");
      if (data.answered) closePrompt(data.answered.delivery_id, data.answered.label);
      return (data.replies || []).map(add);
    }
    say("Couldn't reach carbot. Your message was not sent — please try again.");
    return null;
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
    const sent = mine(words || (upload ? "(file)" : ""), upload ? [upload.name] : []);
    const replies = await post({ text: words, file: upload });
    sendButton.disabled = false;
    if (replies) {
      form.reset();
      fileName.textContent = "";
      reveal(sent, replies[replies.length - 1]);
      showCount();
    }
    text.focus({ preventScroll: true }); // the reply is read out by the log; typing goes on
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
    const sent = mine(button.textContent);
    const replies = await post({ choice: button.dataset.value, delivery_id: deliveryId });
    if (!replies) {
      bubble.querySelectorAll("button.choice").forEach((b) => (b.disabled = false));
      button.focus();
      return;
    }
    const group = bubble.querySelector(".choices");
    if (!deliveryId && group) group.remove();
    const newest = replies[replies.length - 1] || sent;
    reveal(sent, newest);
    focusReply(newest);
  });

  document.getElementById("text-smaller").addEventListener("click", () => resize(-1));
  document.getElementById("text-larger").addEventListener("click", () => resize(1));

  function resize(direction) {
    if (!window.carbotTextSize) return;
    const size = window.carbotTextSize.change(direction);
    const limit = size.smallest ? " (the smallest)" : size.largest ? " (the largest)" : "";
    say("Text size " + size.percent + "%" + limit + ".", "note");
    composerSpace();
  }

  // On arrival: the open question and the newest message in view, above the composer.
  function revealNewest() {
    const bubbles = log.querySelectorAll(".bubble");
    if (!bubbles.length) return;
    const newest = bubbles[bubbles.length - 1];
    const open = Array.from(log.querySelectorAll(".bubble.bot")).filter((b) => b.querySelector(".choices") || (b.dataset.delivery && !b.classList.contains("closed")));
    reveal(open.length ? open[open.length - 1] : newest, newest, { keep: "first" });
  }

  async function reload() {
    const response = await fetch(base + "/history");
    if (!response.ok) return;
    const data = await response.json();
    conversation.setAttribute("aria-busy", "true"); // not read out again as new messages
    log.replaceChildren(...data.bubbles.map(render));
    conversation.removeAttribute("aria-busy");
    revealNewest();
  }

  if ("scrollRestoration" in history) history.scrollRestoration = "manual";
  if (window.ResizeObserver) new ResizeObserver(composerSpace).observe(form);
  revealNewest();

  if (window.EventSource) {
    let dropped = false;
    const events = new EventSource(base + "/events");
    events.addEventListener("bubble", (event) => {
      const b = JSON.parse(event.data);
      const fresh = !document.getElementById("m-" + b.id);
      const node = add(b);
      if (fresh) reveal(node);
    });
    events.addEventListener("error", () => (dropped = true));
    events.addEventListener("open", () => {
      if (dropped) reload(); // anything sent while we were away is in the history
      dropped = false;
      chat.dataset.live = "yes";
    });
  }
})();
