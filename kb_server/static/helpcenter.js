/* Linezero help center: analytics events, "Was this helpful?" and the contact form.
 * Everything here is optional: a blocked storage or a failing request never breaks the page. */
(function () {
  "use strict";

  var SESSION_KEY = "lz_session";
  var QUERY_KEY = "lz_query";
  var memory = {};

  function storage(name) {
    try { return window[name] || null; } catch (e) { return null; }
  }

  function load(store, key) {
    try { return store ? store.getItem(key) : memory[key]; } catch (e) { return memory[key]; }
  }

  function save(store, key, value) {
    memory[key] = value;
    try { if (store) { store.setItem(key, value); } } catch (e) { /* storage full or blocked */ }
  }

  function randomId() {
    var bytes = new Uint8Array(16);
    if (window.crypto && window.crypto.getRandomValues) {
      window.crypto.getRandomValues(bytes);
    } else {
      for (var i = 0; i < bytes.length; i++) { bytes[i] = Math.floor(Math.random() * 256); }
    }
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  /* The anonymous search session: a random id kept in localStorage. */
  function sessionId() {
    var id = load(storage("localStorage"), SESSION_KEY);
    if (!id) {
      id = randomId();
      save(storage("localStorage"), SESSION_KEY, id);
    }
    return id;
  }

  /* POST JSON; resolves with the response body, rejects with the API's error message. */
  function postJSON(path, body) {
    body.session_id = sessionId();
    body.page_url = window.location.href;
    return fetch(path, {
      method: "POST", credentials: "same-origin", keepalive: true,
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) {
          var error = new Error(data.error || "HTTP " + response.status);
          error.field = data.field;      // the input at fault (a 400 names it)
          error.status = response.status;
          throw error;
        }
        return data;
      });
    });
  }

  function track(event) {
    try { postJSON("/api/v1/events", event).catch(function () {}); } catch (e) { /* no fetch */ }
  }

  /* The session's last search that was submitted (a results page) or used (a suggestion
   * chosen), with the articles it offered: a view or a "not helpful" counts against that
   * search only on one of those articles, never on an article opened some other way. */
  function rememberSearch(query, ids) {
    save(storage("sessionStorage"), QUERY_KEY, JSON.stringify({ query: query, ids: ids }));
  }

  function lastQuery(articleId) {
    var search = null;
    try { search = JSON.parse(load(storage("sessionStorage"), QUERY_KEY) || "null"); } catch (e) { /* none */ }
    return search && Array.isArray(search.ids) && search.ids.indexOf(articleId) >= 0 ? String(search.query || "") : "";
  }

  function initResults() {
    var results = document.getElementById("results");
    if (!results) { return; }
    var query = results.dataset.query;
    var ids = [];
    try { ids = JSON.parse(results.dataset.ids || "[]"); } catch (e) { /* keep [] */ }
    rememberSearch(query, ids);
    track({ kind: "search", query: query, language: results.dataset.language,
            result_count: parseInt(results.dataset.count, 10) || 0, result_ids: ids });
    results.addEventListener("click", function (event) {
      var link = event.target.closest("a[data-article-id]");
      if (link) {
        track({ kind: "click", query: query, language: results.dataset.language,
                article_id: link.dataset.articleId });
      }
    });
  }

  function initArticle() {
    var article = document.querySelector("article[data-article-id]");
    if (article) {
      track({ kind: "view", article_id: article.dataset.articleId,
              language: article.getAttribute("lang") || "", query: lastQuery(article.dataset.articleId) });
    }
  }

  function initFeedback() {
    var box = document.getElementById("feedback");
    if (!box) { return; }
    var form = box.querySelector("form");
    var buttons = box.querySelector(".feedback-buttons");
    var noButton = box.querySelector("[data-helpful=no]");
    var status = box.querySelector(".status");

    function send(helpful, reason, comment) {
      var body = { article_id: box.dataset.articleId, helpful: helpful, language: box.dataset.language,
                   query: lastQuery(box.dataset.articleId) };
      if (reason) { body.reason = reason; }
      if (comment) { body.comment = comment; }
      status.textContent = "";
      postJSON("/api/v1/feedback", body).then(function () {
        buttons.hidden = true;
        form.hidden = true;
        status.textContent = box.dataset.thanks;
      }).catch(function () {
        status.textContent = box.dataset.failed;
      });
    }

    box.querySelector("[data-helpful=yes]").addEventListener("click", function () { send(true); });
    noButton.addEventListener("click", function () {
      form.hidden = false;
      noButton.setAttribute("aria-expanded", "true");
      form.querySelector("input[name=reason]").focus();
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      send(false, form.elements.reason.value, form.elements.comment.value.trim());
    });
    box.hidden = false;
  }

  function initContact() {
    var form = document.getElementById("contact-form");
    if (!form) { return; }
    var status = document.getElementById("contact-status");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var button = form.querySelector("button[type=submit]");
      var body = { email: form.elements.email.value.trim(), message: form.elements.message.value.trim(),
                   language: form.dataset.language, query: form.elements.query.value };
      if (form.elements.name.value.trim()) { body.name = form.elements.name.value.trim(); }
      button.disabled = true;
      status.textContent = "";
      Array.prototype.forEach.call(form.elements, function (el) { el.removeAttribute("aria-invalid"); });
      postJSON("/api/v1/contact", body).then(function (data) {
        var done = document.getElementById("contact-done");
        document.getElementById("contact-ask").hidden = true;
        if (data.ticket) {
          document.getElementById("contact-reference").textContent = data.ticket.reference;
        } else {
          done.textContent = data.message;   // 202: kept, filed when the ticket system is back
        }
        done.hidden = false;
      }).catch(function (error) {
        var input = error.field && form.elements[error.field];
        if (input) {       // the user's own mistake: say which field, in the page's language
          input.setAttribute("aria-invalid", "true");
          input.focus();
          status.textContent = error.field === "email" ? form.dataset.invalidEmail : form.dataset.invalidField;
        } else {
          // the server's reason is English and for developers: the page says its own words
          status.textContent = error.status === 429 ? form.dataset.tooMany : form.dataset.failed;
        }
        button.disabled = false;
      });
    });
  }

  /* The rating link of an e-mail: the page records the chosen rating itself, so a mail scanner
   * that only fetches links (and runs no script) records nothing. The comment is sent later. */
  function initRating() {
    var form = document.querySelector("form[data-auto-rate]");
    if (!form || !window.fetch || !window.FormData) { return; }
    var data = new FormData(form);
    data.delete("comment");
    fetch(form.action, { method: "POST", body: data, credentials: "same-origin" }).then(function (response) {
      if (!response.ok) { return; }
      var heading = document.querySelector("[data-rated-heading]");
      heading.textContent = heading.getAttribute("data-rated-heading");
      document.querySelector("[data-rated-lead]").hidden = false;
    }).catch(function () { /* the Send button still records it */ });
  }

  /* Search-as-you-type on the help center's search boxes (the widget's suggest API): an ARIA
   * combobox whose listbox the arrow keys move through; Enter or a click opens the article at
   * its section, Escape closes the list, Enter without a chosen suggestion searches as before. */
  var SUGGEST_DELAY = 150;      // ms after the last keystroke
  var SUGGEST_MIN = 2;          // characters typed before suggestions are asked for
  var SUGGEST_LIMIT = 6;

  function initSuggest(input) {
    var list = document.createElement("ul");
    var items = [], active = -1, timer = null, asked = 0;
    list.id = input.id + "-suggestions";
    list.className = "suggestions";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", input.dataset.suggestLabel);
    list.hidden = true;
    input.form.appendChild(list);
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-controls", list.id);
    input.setAttribute("aria-expanded", "false");

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    /* As a results page would: the search (its suggestions as results), then the article
     * page's view event carries the query (the view is what opened it). */
    function choose(index) {
      var query = input.value.trim();
      rememberSearch(query, [items[index].id]);
      track({ kind: "search", query: query, language: document.documentElement.lang,
              result_count: items.length, result_ids: items.map(function (item) { return item.id; }) });
      window.location.assign(items[index].url);
    }

    function select(index) {
      var options = list.children;
      if (active >= 0) { options[active].setAttribute("aria-selected", "false"); }
      active = index;
      if (active < 0) { input.removeAttribute("aria-activedescendant"); return; }
      options[active].setAttribute("aria-selected", "true");
      input.setAttribute("aria-activedescendant", options[active].id);
      options[active].scrollIntoView({ block: "nearest" });
    }

    function show(suggestions) {
      items = suggestions;
      active = -1;
      list.textContent = "";
      items.forEach(function (item, index) {
        var option = document.createElement("li");
        option.id = list.id + "-" + index;
        option.setAttribute("role", "option");
        option.setAttribute("aria-selected", "false");
        option.lang = item.language;
        option.textContent = item.title;
        if (item.section) {
          var section = document.createElement("span");
          section.className = "suggestion-section";
          section.textContent = item.section;
          option.appendChild(section);
        }
        option.addEventListener("mousedown", function (event) { event.preventDefault(); });
        option.addEventListener("click", function () { choose(index); });
        list.appendChild(option);
      });
      if (!items.length) { close(); return; }
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
    }

    function ask() {
      var query = input.value.trim();
      var number = ++asked;
      if (query.length < SUGGEST_MIN) { show([]); return; }
      var url = "/api/v1/suggest?" + new URLSearchParams({ q: query, limit: SUGGEST_LIMIT,
                                                            lang: document.documentElement.lang });
      fetch(url, { headers: { "Accept": "application/json" } }).then(function (response) {
        return response.ok ? response.json() : { suggestions: [] };
      }).then(function (data) {
        if (number === asked) { show(data.suggestions || []); }   // only the latest answer
      }).catch(function () { /* no suggestions: the search button still works */ });
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(ask, SUGGEST_DELAY);
    });
    input.addEventListener("keydown", function (event) {
      var open = !list.hidden;
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        if (!items.length) { return; }
        event.preventDefault();
        if (!open) { list.hidden = false; input.setAttribute("aria-expanded", "true"); }
        var next = active + (event.key === "ArrowDown" ? 1 : -1);    // -1: back in the box
        select(next >= items.length ? -1 : next < -1 ? items.length - 1 : next);
      } else if (event.key === "Enter" && open && active >= 0) {
        event.preventDefault();
        choose(active);
      } else if (event.key === "Escape" && open) {
        event.preventDefault();
        close();
      }
    });
    input.addEventListener("blur", close);
  }

  function initSuggestions() {
    Array.prototype.forEach.call(document.querySelectorAll("input[data-suggest-label]"), initSuggest);
  }

  /* The filters of a results page: folded on a narrow screen (results first), open on a wide one. */
  function initFilters() {
    var filters = document.querySelector(".facets details");
    if (!filters) { return; }
    var wide = window.matchMedia("(min-width: 50rem)");
    function fit() { filters.open = wide.matches; }
    fit();
    wide.addEventListener("change", fit);
  }

  function init() {
    [initResults, initArticle, initFeedback, initContact, initRating, initFilters, initSuggestions].forEach(function (step) {
      try { step(); } catch (e) { /* one broken part must not stop the others */ }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
}());
