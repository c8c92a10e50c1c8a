// carbot web chat: the reader's text size (A−/A+), remembered in this browser and applied
// before the page is drawn. Sizes are steps of the browser's own default, never fixed pixels.
"use strict";

(function () {
  const KEY = "carbot.textSize";
  const STEPS = [0.85, 1, 1.15, 1.3, 1.5, 1.75, 2];
  const BASE = 112.5; // percent of the browser's default text size, as in webchat.css

  function stored() {
    try {
      const step = Number(window.localStorage.getItem(KEY));
      return STEPS.includes(step) ? step : 1;
    } catch (err) {
      return 1; // storage switched off: the default size
    }
  }

  let current = stored();

  function apply() {
    document.documentElement.style.fontSize = BASE * current + "%";
  }

  // One step smaller (-1) or larger (+1); returns what the page announces.
  function change(direction) {
    const at = STEPS.indexOf(current);
    current = STEPS[Math.min(STEPS.length - 1, Math.max(0, at + direction))];
    try {
      window.localStorage.setItem(KEY, String(current));
    } catch (err) {
      // not remembered, but still applied for this visit
    }
    apply();
    return {
      percent: Math.round(current * 100),
      smallest: current === STEPS[0],
      largest: current === STEPS[STEPS.length - 1],
    };
  }

  apply();
  window.carbotTextSize = { change: change };
})();
