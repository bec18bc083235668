/*
 * The readers' few lines of JavaScript, beside htmx (served from static/ by django-htmx).
 *
 * 1. Filter requests leave empty fields out of the URL, so a shared link reads ?actor=macron, not
 *    ?q=&actor=macron&topic=&kind=...
 * 2. Going Back or Forward through htmx's history, the filter form shows the filters of the URL,
 *    beside the list they produced.
 * 3. A swapped list is announced to screen readers, and tells the live notice where it now starts.
 * 4. The live notice of new developments: a conditional GET (If-None-Match) every 10 s while the
 *    tab is visible, 30 s or more while hidden, backing off exponentially (with jitter) after
 *    failures, as liveblogs do. htmx's polling cannot vary its interval or back off, hence this.
 *    "Show" inserts the new events above the list, never reordering what the reader is reading.
 * 5. A video's click-to-load placeholder: nothing comes from the video's site until the reader
 *    presses its button, which puts the provider's player (an address the CSP's frame-src names)
 *    in its place. Without JavaScript the card's link to the video still works.
 * 6. The language switcher's links carry the page's current address (htmx may have changed it).
 */
(function () {
  "use strict";

  // Django's JavaScript catalog (/fr/jsi18n/ ...) defines these on pages in another language than
  // English; an English page loads none, and the source strings are the English.
  const gettext = window.gettext || function (text) { return text; };
  const ngettext = window.ngettext || function (singular, plural, count) { return count === 1 ? singular : plural; };
  const interpolate = window.interpolate || function (format, values) {
    return format.replace(/%\(\w+\)s/g, function (match) { return String(values[match.slice(2, -2)]); });
  };

  const HIDDEN_MIN_MS = 30000;
  const MAX_BACKOFF_MS = 5 * 60 * 1000;

  // --- 1. No empty parameters in filter URLs -------------------------------------------------
  document.addEventListener("htmx:configRequest", function (evt) {
    const form = evt.detail.elt.closest && evt.detail.elt.closest("[data-drop-empty]");
    if (!form || !evt.detail.formData) return;
    const formData = evt.detail.formData;
    for (const [name, value] of Array.from(formData.entries())) {
      if (value === "") formData.delete(name);
    }
  });

  // --- 2. Back and Forward: the form shows the filters of the URL ------------------------------
  // htmx's snapshot of a page is taken after the reader changed the form, so the form in it may be
  // a step ahead of its list. The URL is the truth: set the fields from it.
  function formFromUrl() {
    const params = new URLSearchParams(window.location.search);
    document.querySelectorAll("form[data-drop-empty]").forEach(function (form) {
      Array.from(form.elements).forEach(function (field) {
        if (!field.name || field.type === "submit" || field.type === "hidden") return;
        field.value = params.get(field.name) || "";
      });
    });
  }
  document.addEventListener("htmx:historyRestore", formFromUrl);

  // --- 3. After the list is swapped -----------------------------------------------------------
  document.addEventListener("htmx:afterSwap", function (evt) {
    if (!evt.detail.target || evt.detail.target.id !== "timeline") return;
    const body = evt.detail.target.querySelector(".timeline__body");
    const status = document.getElementById("timeline-status");
    if (body && status) {
      const count = evt.detail.target.querySelectorAll("article[data-event-id]").length;
      status.textContent = "empty" in body.dataset
        ? gettext("No events match these filters.")
        : interpolate(ngettext("%(count)s event shown.", "%(count)s events shown.", count), { count: count }, true);
    }
    if (body && body.dataset.since) liveNotice.since = body.dataset.since;
  });

  // --- 4. The live notice ------------------------------------------------------------------------
  const liveNotice = {
    since: null,
    etag: null,
    failures: 0,
    timer: null,
    busy: false,

    element: function () {
      return document.getElementById("live-notice");
    },

    start: function () {
      const notice = this.element();
      clearTimeout(this.timer);
      if (!notice) return;
      const body = document.querySelector(".timeline__body[data-since]");
      this.since = body ? body.dataset.since : null;
      this.etag = notice.dataset.etag || null;
      this.failures = 0;
      this.schedule();
    },

    baseDelay: function () {
      const notice = this.element();
      const seconds = notice ? Number(notice.dataset.pollSeconds) : NaN;
      return (seconds > 0 ? seconds : 10) * 1000;
    },

    delay: function () {
      const base = this.baseDelay();
      if (this.failures > 0) {
        const backoff = Math.min(base * Math.pow(2, this.failures), MAX_BACKOFF_MS);
        return backoff * (0.75 + Math.random() * 0.5);
      }
      return document.hidden ? Math.max(base * 3, HIDDEN_MIN_MS) : base;
    },

    schedule: function (ms) {
      clearTimeout(this.timer);
      const self = this;
      this.timer = setTimeout(function () { self.poll(); }, ms === undefined ? this.delay() : ms);
    },

    query: function () {
      const params = new URLSearchParams(window.location.search);
      params.delete("after");
      if (this.since) params.set("since", this.since);
      return params.toString();
    },

    poll: async function () {
      const notice = this.element();
      if (!notice || this.busy || !this.since) return;
      this.busy = true;
      let retryAfter = null;
      try {
        const headers = this.etag ? { "If-None-Match": this.etag } : {};
        const response = await fetch(notice.dataset.pollUrl + "?" + this.query(), {
          headers: headers,
          cache: "no-store",
          credentials: "same-origin",
        });
        if (response.status === 304) {
          this.failures = 0;
        } else if (response.ok) {
          this.failures = 0;
          this.etag = response.headers.get("ETag") || this.etag;
          this.show(await response.text());
        } else {
          this.failures += 1;
          retryAfter = Number(response.headers.get("Retry-After")) * 1000 || null;
        }
      } catch (error) {
        this.failures += 1;
      } finally {
        this.busy = false;
        this.schedule(retryAfter || undefined);
      }
    },

    show: function (html) {
      const notice = this.element();
      const text = html.trim();
      // Only a change is written, so a screen reader hears each announcement once.
      if (notice && notice.innerHTML.trim() !== text) notice.innerHTML = text;
    },

    insert: async function (link) {
      const notice = this.element();
      const days = document.getElementById("timeline-days");
      if (!notice || !days) return false;
      link.setAttribute("aria-disabled", "true");
      const response = await fetch(notice.dataset.newUrl + "?" + this.query(), { credentials: "same-origin" });
      if (!response.ok) return false;
      const template = document.createElement("template");
      template.innerHTML = (await response.text()).trim();
      const block = template.content.firstElementChild;
      if (!block) return false;
      // An event already on the page (the list was reloaded meanwhile) is not shown twice.
      block.querySelectorAll("article[data-event-id]").forEach(function (card) {
        const id = card.dataset.eventId;
        if (days.querySelector('article[data-event-id="' + CSS.escape(id) + '"]')) card.closest("li").remove();
      });
      if (block.dataset.newest) this.since = block.dataset.newest;
      if (block.querySelector("article[data-event-id]")) days.insertBefore(block, days.firstChild);
      notice.innerHTML = "";
      const heading = block.querySelector(".day__heading");
      if (heading) heading.focus();
      return true;
    },
  };

  document.addEventListener("click", function (evt) {
    const link = evt.target.closest && evt.target.closest("[data-show-new]");
    if (!link) return;
    evt.preventDefault();
    liveNotice.insert(link).then(function (done) {
      if (!done) window.location.assign(link.href);
    }, function () {
      window.location.assign(link.href);
    });
  });

  // --- 5. Click-to-load video players --------------------------------------------------------------
  document.addEventListener("click", function (evt) {
    const button = evt.target.closest && evt.target.closest("[data-load-player]");
    const holder = button && button.closest(".media-player[data-player-src]");
    if (!holder) return;
    const frame = document.createElement("iframe");
    frame.src = holder.dataset.playerSrc;
    frame.title = holder.dataset.playerTitle;
    frame.setAttribute("sandbox", "allow-scripts allow-same-origin allow-presentation");
    frame.setAttribute("allow", "fullscreen; picture-in-picture");
    frame.setAttribute("allowfullscreen", "");
    frame.referrerPolicy = "strict-origin-when-cross-origin";
    holder.replaceChildren(frame);
    holder.classList.add("media-player--loaded");
    frame.focus();
  });

  // --- 6. The language switcher takes the reader to this page as it is now (filters pushed by htmx) --
  document.addEventListener("click", function (evt) {
    const link = evt.target.closest && evt.target.closest("a[data-language-switch]");
    if (!link) return;
    const url = new URL(link.href);
    url.searchParams.set("next", window.location.pathname + window.location.search);
    link.href = url.toString();
  });

  document.addEventListener("visibilitychange", function () {
    // Back to the tab: check soon rather than at the end of a long hidden interval.
    if (!document.hidden && liveNotice.element()) liveNotice.schedule(1000);
  });

  // Back and Forward through htmx's history put a new copy of the page in place.
  document.addEventListener("htmx:historyRestore", function () { liveNotice.start(); });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { liveNotice.start(); });
  } else {
    liveNotice.start();
  }
})();
