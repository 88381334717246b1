/*! Linezero help widget | MIT license | embed: <script src=".../widget.js" data-site="KEY" defer></script> */
/* Plain JavaScript, no dependencies, rendered in a Shadow DOM (host CSS can't reach in or out).
 * /widget.js serves this file without indentation and whole-line comments (kb_server/widget_api.py),
 * so keep comments on lines of their own and strings on one line.
 *
 *   <script src="https://help.example.com/widget.js" data-site="demo" defer></script>
 *
 * Options (data attributes of that script tag): data-site, data-lang, data-color,
 * data-position (right|left), data-launcher-text, data-api (API base URL; default: the folder the
 * script is served from), data-page-path (page path used for suggestions; default: location.pathname).
 * JS API: window.Linezero.open(), close(), search(q), identify({email, name}), setLanguage(lang),
 * suggest([slug or search terms]), on(event, handler) -> unsubscribe. Events: open, close, search,
 * article, feedback, contact (also dispatched on window as "linezero:<event>" CustomEvents).
 */
(function () {
  "use strict";

  if (window.Linezero && window.Linezero.version) return; // embedded twice: the first one wins

  var VERSION = "1.0.0";
  var LANGS = ["en", "ru", "uk"];
  var DEBOUNCE_MS = 80;      // search-as-you-type waits this long after the last keystroke
                             // (a slower answer is aborted when the next one starts)
  var SETTLE_MS = 1500;      // a search is logged once typing has paused this long (or on Enter)
  var MIN_QUERY = 2;
  var PER_PAGE = 8;
  var MAX_HOME = 6;
  var REASONS = ["outdated", "unclear", "not_solved", "other"];

  // ---- Options ---------------------------------------------------------------------------------
  var script = document.currentScript || document.querySelector('script[src*="widget.js"]');
  var data = (script && script.dataset) || {};
  var options = {
    site: data.site || "",
    lang: data.lang || "",
    color: data.color || "",
    position: data.position === "left" ? "left" : "right",
    launcherText: data.launcherText || "",
    pagePath: data.pagePath || "",
    // The API lives where the script comes from, unless data-api says otherwise.
    api: (data.api || (script && script.src ? new URL(".", script.src).href : location.origin))
      .replace(/\/+$/, ""),
  };

  // ---- UI strings ------------------------------------------------------------------------------
  var STRINGS = {
    en: {
      launcher: "Help", title: "How can we help?", close: "Close help", back: "Back",
      searchLabel: "Search help articles", placeholder: "Search for answers…",
      hint: "Type your question, for example “reset password”.",
      suggested: "Suggested for this page", resultsLabel: "Search results",
      results: { one: "{n} article found", other: "{n} articles found" },
      noResults: "No articles found for “{q}”.", didYouMean: "Did you mean", showing: "Showing results for",
      searchError: "Search is not available right now.", loading: "Loading…",
      articleError: "Could not open the article.", openFull: "Open in the help center", helpful: "Was this article helpful?",
      yes: "Yes", no: "No", whatWrong: "What went wrong?",
      reason_outdated: "The information is outdated", reason_unclear: "It is hard to understand",
      reason_not_solved: "It didn't solve my problem", reason_other: "Something else",
      comment: "Tell us more (optional)", send: "Send", sending: "Sending…", cancel: "Cancel",
      thanks: "Thank you for your feedback!", stillNeedHelp: "Still need help?",
      contact: "Contact support", name: "Name (optional)", email: "Email", message: "Message",
      emailInvalid: "Enter a valid email address.", messageRequired: "Write a message.",
      sendError: "Could not send. Please try again.", tooMany: "Too many requests. Please wait a minute.",
      sentTitle: "Request sent", sent: "Your reference number:",
      sentNote: "We will reply by email.", newSearch: "Back to help",
    },
    ru: {
      launcher: "Помощь", title: "Чем помочь?", close: "Закрыть справку", back: "Назад",
      searchLabel: "Поиск по справке", placeholder: "Найти ответ…",
      hint: "Введите вопрос, например «сбросить пароль».",
      suggested: "Статьи для этой страницы", resultsLabel: "Результаты поиска",
      results: { one: "Найдена {n} статья", few: "Найдено {n} статьи", many: "Найдено {n} статей", other: "Найдено {n} статьи" },
      noResults: "По запросу «{q}» ничего не найдено.", didYouMean: "Возможно, вы имели в виду", showing: "Показаны результаты по запросу",
      searchError: "Поиск сейчас недоступен.", loading: "Загрузка…",
      articleError: "Не удалось открыть статью.", openFull: "Открыть в справочном центре", helpful: "Статья была полезной?",
      yes: "Да", no: "Нет", whatWrong: "Что не так?",
      reason_outdated: "Информация устарела", reason_unclear: "Написано непонятно",
      reason_not_solved: "Не решило мою проблему", reason_other: "Другое",
      comment: "Расскажите подробнее (необязательно)", send: "Отправить", sending: "Отправка…", cancel: "Отмена",
      thanks: "Спасибо за отзыв!", stillNeedHelp: "Нужна помощь?",
      contact: "Написать в поддержку", name: "Имя (необязательно)", email: "Эл. почта", message: "Сообщение",
      emailInvalid: "Введите правильный адрес почты.", messageRequired: "Напишите сообщение.",
      sendError: "Не удалось отправить. Попробуйте ещё раз.", tooMany: "Слишком много запросов. Подождите минуту.",
      sentTitle: "Запрос отправлен", sent: "Номер вашего обращения:",
      sentNote: "Мы ответим на вашу почту.", newSearch: "Вернуться к справке",
    },
    uk: {
      launcher: "Допомога", title: "Чим допомогти?", close: "Закрити довідку", back: "Назад",
      searchLabel: "Пошук у довідці", placeholder: "Знайти відповідь…",
      hint: "Введіть запитання, наприклад «скинути пароль».",
      suggested: "Статті для цієї сторінки", resultsLabel: "Результати пошуку",
      results: { one: "Знайдено {n} статтю", few: "Знайдено {n} статті", many: "Знайдено {n} статей", other: "Знайдено {n} статті" },
      noResults: "За запитом «{q}» нічого не знайдено.", didYouMean: "Можливо, ви мали на увазі", showing: "Показано результати за запитом",
      searchError: "Пошук зараз недоступний.", loading: "Завантаження…",
      articleError: "Не вдалося відкрити статтю.", openFull: "Відкрити в довідковому центрі", helpful: "Стаття була корисною?",
      yes: "Так", no: "Ні", whatWrong: "Що не так?",
      reason_outdated: "Інформація застаріла", reason_unclear: "Написано незрозуміло",
      reason_not_solved: "Не вирішило мою проблему", reason_other: "Інше",
      comment: "Розкажіть докладніше (необов'язково)", send: "Надіслати", sending: "Надсилання…", cancel: "Скасувати",
      thanks: "Дякуємо за відгук!", stillNeedHelp: "Потрібна допомога?",
      contact: "Написати в підтримку", name: "Ім'я (необов'язково)", email: "Ел. пошта", message: "Повідомлення",
      emailInvalid: "Введіть правильну адресу пошти.", messageRequired: "Напишіть повідомлення.",
      sendError: "Не вдалося надіслати. Спробуйте ще раз.", tooMany: "Забагато запитів. Зачекайте хвилину.",
      sentTitle: "Запит надіслано", sent: "Номер вашого звернення:",
      sentNote: "Ми відповімо на вашу пошту.", newSearch: "Повернутися до довідки",
    },
  };

  /** First supported language among the candidates ("ru-RU" counts as "ru"), else English. */
  function pickLanguage(candidates) {
    for (var i = 0; i < candidates.length; i++) {
      var code = String(candidates[i] || "").toLowerCase().split(/[-_]/)[0];
      if (LANGS.indexOf(code) >= 0) return code;
    }
    return "en";
  }

  /** A UI string in the current language; {name} placeholders; plural forms by {n}. */
  function t(key, vars) {
    vars = vars || {};
    var text = STRINGS[state.lang][key];
    if (text == null) text = STRINGS.en[key];
    if (typeof text === "object") text = text[new Intl.PluralRules(state.lang).select(vars.n)] || text.other;
    return String(text).replace(/\{(\w+)\}/g, function (_, name) { return vars[name] == null ? "" : vars[name]; });
  }

  // ---- State -----------------------------------------------------------------------------------
  var state = {
    lang: pickLanguage([options.lang, document.documentElement.lang]
      .concat(navigator.languages || [navigator.language])),
    open: false,
    started: false,       // config and suggestions are fetched on the first open
    view: "home",         // home | results | article | contact | sent
    query: "",            // the query whose results are shown
    results: null,        // the last search response
    article: null,        // the article shown
    home: null,           // suggested articles (null while loading)
    presets: [],          // Linezero.suggest(...)
    user: { email: "", name: "" },
    returnTo: "",         // id of the result to focus when going back from an article
    from: "",             // the view the contact form was opened from
  };
  var els = {};           // elements of the shell (see mount)
  var handlers = {};      // Linezero.on(...) subscribers, by event name

  // ---- Small helpers ---------------------------------------------------------------------------
  /** Create an element: h("button", {class: "x", onclick: fn}, "text", child, [children]).
   *  Strings become text nodes, so nothing passed here is ever parsed as HTML. */
  function h(tag, props) {
    var el = document.createElement(tag);
    Object.keys(props || {}).forEach(function (key) {
      var value = props[key];
      if (value == null || value === false) return;
      if (key.slice(0, 2) === "on") el.addEventListener(key.slice(2), value);
      else if (key === "value") el.value = value;
      else el.setAttribute(key === "cls" ? "class" : key, value === true ? "" : value);
    });
    append(el, Array.prototype.slice.call(arguments, 2));
    return el;
  }

  function append(parent, kids) {
    kids.forEach(function (kid) {
      if (Array.isArray(kid)) append(parent, kid);
      else if (kid != null && kid !== false) parent.append(kid);
    });
  }

  function params(values) {
    var search = new URLSearchParams();
    Object.keys(values).forEach(function (key) { if (values[key]) search.set(key, values[key]); });
    return search.toString();
  }

  function emit(name, detail) {
    (handlers[name] || []).slice().forEach(function (fn) {
      try { fn(detail); } catch (err) { console.error("Linezero handler failed:", err); }
    });
    window.dispatchEvent(new CustomEvent("linezero:" + name, { detail: detail }));
  }

  /** Say something to screen readers (the polite live region). */
  function announce(text) {
    els.live.textContent = "";
    setTimeout(function () { els.live.textContent = text; }, 50); // a change, even for the same text
  }

  // ---- Safe HTML -------------------------------------------------------------------------------
  // The API sanitizes snippets and articles already; we still rebuild them from an allow-list so
  // nothing but known tags, attributes and http(s)/mailto links can reach the page.
  var SNIPPET_TAGS = ["mark"];
  var ARTICLE_TAGS = ("a abbr b blockquote br code del div em h1 h2 h3 h4 h5 h6 hr i img kbd li mark " +
    "ol p pre s span strong sub sup table tbody td th thead tr ul dl dt dd").split(" ");
  var DROP_TAGS = ["script", "style", "template", "iframe", "object", "embed", "svg", "math", "noscript"];
  var ATTRIBUTES = ["id", "title", "href", "src", "alt", "width", "height", "align"];

  /** Parse HTML in an inert <template> and copy only allowed tags (others are unwrapped to their
   *  text, dangerous ones dropped) into a fresh fragment. */
  function safeFragment(html, tags) {
    var template = document.createElement("template");
    template.innerHTML = String(html || "");
    var out = document.createDocumentFragment();
    copyAllowed(template.content, out, tags);
    return out;
  }

  function copyAllowed(from, to, tags) {
    from.childNodes.forEach(function (node) {
      if (node.nodeType === 3) { to.append(node.textContent); return; }
      if (node.nodeType !== 1) return;
      var tag = node.localName;
      if (DROP_TAGS.indexOf(tag) >= 0) return;
      if (tags.indexOf(tag) < 0) { copyAllowed(node, to, tags); return; }
      var el = document.createElement(tag);
      if (tags !== SNIPPET_TAGS) copyAttributes(node, el);
      copyAllowed(node, el, tags);
      to.append(el);
    });
  }

  function copyAttributes(from, to) {
    ATTRIBUTES.forEach(function (name) {
      var value = from.getAttribute(name);
      if (value == null) return;
      if (name === "href" || name === "src") {
        if (name === "href" && value.charAt(0) === "#") { to.setAttribute("href", value); return; }
        value = safeUrl(value);
        if (!value) return;
        if (name === "href") { to.setAttribute("target", "_blank"); to.setAttribute("rel", "noopener noreferrer"); }
      }
      to.setAttribute(name, value);
    });
    if (to.localName === "img") to.setAttribute("loading", "lazy");
  }

  /** Absolute http(s)/mailto URL (relative ones resolve against the knowledge base), or "". */
  function safeUrl(value) {
    try {
      var url = new URL(value, options.api + "/");
      return /^(https?|mailto):$/.test(url.protocol) ? url.href : "";
    } catch (err) {
      return "";
    }
  }

  // ---- Network ---------------------------------------------------------------------------------
  /** JSON request to the knowledge base; rejects with err.status on an HTTP error. */
  function api(path, opts) {
    opts = opts || {};
    var init = { method: opts.body ? "POST" : "GET", credentials: "omit", signal: opts.signal,
                 keepalive: !!opts.keepalive, headers: { Accept: "application/json" } };
    if (opts.body) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(opts.body);
    }
    return fetch(options.api + path, init).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (json) {
        if (response.ok) return json;
        var err = new Error(json.error || response.statusText || "HTTP " + response.status);
        err.status = response.status;
        throw err;
      });
    });
  }

  var memorySession = "";
  /** Anonymous session id, kept in the host page's localStorage as "lz_session". */
  function sessionId() {
    try {
      var id = localStorage.getItem("lz_session");
      if (!id) localStorage.setItem("lz_session", (id = randomId()));
      return id;
    } catch (err) { // storage blocked (privacy mode, sandboxed frame): one id per page view
      return memorySession || (memorySession = randomId());
    }
  }

  function randomId() {
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join("");
  }

  /** Fields every event, feedback and contact request carries. */
  function context(extra) {
    var body = { session_id: sessionId(), language: state.lang, page_url: location.href.slice(0, 2000) };
    if (options.site) body.site = options.site;
    Object.keys(extra || {}).forEach(function (key) { if (extra[key] != null && extra[key] !== "") body[key] = extra[key]; });
    return body;
  }

  var leaving = false;             // the page is being hidden: events must outlive it (keepalive)
  var sent = Promise.resolve();    // events are posted one after another, so they arrive in order

  function track(kind, fields) {
    fields.kind = kind;
    var post = function () {
      return api("/api/v1/events", { body: context(fields), keepalive: leaving }).catch(function () {});
    };
    sent = leaving ? post() : sent.then(post);
  }

  // A search is logged when the user stops typing (SETTLE_MS), presses Enter, opens a result,
  // asks for contact or closes the widget, whichever comes first, and only once per query.
  var pendingLog = null, logTimer = 0, lastLogged = "";

  function scheduleSearchLog(entry, now) {
    pendingLog = entry;
    clearTimeout(logTimer);
    if (now) flushSearchLog();
    else logTimer = setTimeout(flushSearchLog, SETTLE_MS);
  }

  function flushSearchLog() {
    clearTimeout(logTimer);
    var entry = pendingLog;
    pendingLog = null;
    if (!entry || entry.query === lastLogged) return;
    lastLogged = entry.query;
    track("search", entry);
  }

  // ---- Search ----------------------------------------------------------------------------------
  var searchSeq = 0, searchAbort = null, debounceTimer = 0;

  /** Forget any search in flight: its answer will be ignored. */
  /** Forget the pending search: its answer is ignored, and the panel is no longer busy with it. */
  function cancelSearch() {
    clearTimeout(debounceTimer);
    searchSeq++;
    if (searchAbort) searchAbort.abort();
    searchAbort = null;
    if (els.body) els.body.removeAttribute("aria-busy");
  }

  function onInput() {
    var q = els.input.value.trim();
    clearTimeout(debounceTimer);
    if (q.length < MIN_QUERY) {
      cancelSearch();
      state.query = "";
      state.results = null;
      if (state.view === "results") renderHome();
      return;
    }
    debounceTimer = setTimeout(function () { runSearch(q, false); }, DEBOUNCE_MS);
  }

  function onSubmit(event) {
    event.preventDefault();
    var q = els.input.value.trim();
    if (q.length < MIN_QUERY) return;
    if (q === state.query && state.view === "results") flushSearchLog(); // results already shown
    else { cancelSearch(); runSearch(q, true); }
  }

  // The page's language, unless the words are Cyrillic on an English page: then the server
  // detects Russian or Ukrainian from them (a Russian question gets the Russian articles).
  function searchLanguage(q) {
    return state.lang === "en" && /[\u0400-\u04ff]/.test(q) ? null : state.lang;
  }

  function runSearch(q, logNow) {
    cancelSearch();
    var seq = searchSeq;
    var controller = window.AbortController ? new AbortController() : null;
    searchAbort = controller;
    els.body.setAttribute("aria-busy", "true");
    api("/api/v1/search?" + params({ q: q, lang: searchLanguage(q), site: options.site, per_page: PER_PAGE }),
        { signal: controller && controller.signal })
      .then(function (res) {
        if (seq !== searchSeq) return; // a newer search (or view) replaced this one
        var ids = (res.hits || []).map(function (hit) { return hit.id; });
        state.query = q;
        state.results = res;
        renderResults();
        announce(res.total ? t("results", { n: res.total }) : t("noResults", { q: q }));
        emit("search", { query: q, total: res.total, results: ids });
        scheduleSearchLog({ query: q, result_count: res.total || 0, result_ids: ids }, logNow);
      })
      .catch(function (err) {
        if (seq !== searchSeq || err.name === "AbortError") return;
        state.query = q;
        state.results = null;
        show(h("p", { cls: "lz-error", role: "alert" }, err.status === 429 ? t("tooMany") : t("searchError")),
             contactPrompt());
        state.view = "results";
      })
      .then(function () { if (seq === searchSeq) els.body.removeAttribute("aria-busy"); });
  }

  // ---- Views -----------------------------------------------------------------------------------
  /** Replace the panel body with new content, scrolled to the top. */
  function show() {
    els.body.replaceChildren();
    append(els.body, Array.prototype.slice.call(arguments));
    els.body.scrollTop = 0;
  }

  /** A list of articles (search hits or suggestions): links to the help-center page, opened
   *  inside the widget unless the user asks for a new tab (Ctrl/Cmd/Shift-click). */
  function articleList(label, items) {
    return h("ul", { cls: "lz-list", "aria-label": label }, items.map(function (item) {
      var url = item.url && safeUrl(item.url);
      var onclick = function (event) {
        var newTab = url && (event.ctrlKey || event.metaKey || event.shiftKey);
        if (!newTab) event.preventDefault();
        openHit(item, newTab);
      };
      return h("li", null, h(url ? "a" : "button", { href: url || null, type: url ? null : "button", cls: "lz-hit", "data-id": item.id, onclick: onclick },
        h("span", { cls: "lz-hit-title" }, item.title),
        item.section ? h("span", { cls: "lz-hit-section" },
          item.section_html ? safeFragment(item.section_html, SNIPPET_TAGS) : item.section) : null,
        item.snippet ? h("span", { cls: "lz-hit-text" }, safeFragment(item.snippet, SNIPPET_TAGS))
          : item.summary ? h("span", { cls: "lz-hit-text" }, item.summary) : null));
    }));
  }

  function renderHome() {
    state.view = "home";
    var items = state.home || [];
    show(items.length ? [h("h3", { cls: "lz-h" }, t("suggested")), articleList(t("suggested"), items)]
                      : h("p", { cls: "lz-muted" }, state.home ? t("hint") : t("loading")),
      h("p", { cls: "lz-muted lz-contact" }, contactLink()));
  }

  function renderResults() {
    var res = state.results;
    state.view = "results";
    show(
      res.showing ? h("p", { cls: "lz-muted lz-showing" }, t("showing") + " ", h("strong", null, res.showing)) : null,
      res.did_you_mean ? h("p", { cls: "lz-muted" }, t("didYouMean") + " ",
        h("button", { type: "button", cls: "lz-link", onclick: function () { search(res.did_you_mean); } }, res.did_you_mean), "?") : null,
      h("p", { cls: "lz-count" }, res.total ? t("results", { n: res.total }) : t("noResults", { q: state.query })),
      res.hits && res.hits.length ? articleList(t("resultsLabel"), res.hits) : null,
      contactPrompt());
  }

  /** The quiet way to a person, always at hand (the prompt after a miss is the loud one). */
  function contactLink() {
    return h("button", { type: "button", cls: "lz-link", onclick: showContact }, t("contact"));
  }

  function contactPrompt() {
    return h("div", { cls: "lz-more" }, h("p", null, t("stillNeedHelp")),
      h("button", { type: "button", cls: "lz-btn lz-btn-2", onclick: showContact }, t("contact")));
  }

  function backButton() {
    return h("button", { type: "button", cls: "lz-back", onclick: goBack }, "‹ " + t("back"));
  }

  /** Back to the article the contact form was opened from, or to the results (or the
   *  suggestions), focusing the article we came from. */
  function goBack() {
    if (state.view === "contact" && state.from === "article") { renderArticle(state.article, ""); return; }
    if (state.query && state.results) renderResults();
    else renderHome();
    var from = state.returnTo && els.body.querySelector('[data-id="' + CSS.escape(state.returnTo) + '"]');
    (from || els.input).focus();
  }

  // ---- Articles --------------------------------------------------------------------------------
  var articleSeq = 0;

  /** A result or suggestion was chosen: log it, then open the article at its section. */
  function openHit(hit, elsewhere) {
    flushSearchLog();
    track("click", { article_id: hit.id, query: state.query });
    if (elsewhere) return;
    state.returnTo = hit.id;
    openArticle(hit.language || hit.id.split("/")[0], hit.slug || hit.id.split("/")[1], hit.anchor || "");
  }

  function openArticle(lang, slug, anchor) {
    cancelSearch(); // a late search answer must not replace the article
    var seq = ++articleSeq;
    state.view = "article";
    show(backButton(), h("p", { cls: "lz-muted" }, t("loading")));
    api("/api/v1/articles/" + encodeURIComponent(lang) + "/" + encodeURIComponent(slug) + "?" + params({ site: options.site }))
      .then(function (article) {
        if (seq !== articleSeq || state.view !== "article") return;
        state.article = article;
        renderArticle(article, anchor);
        track("view", { article_id: article.id, query: state.query });
        emit("article", { id: article.id, slug: article.slug, language: article.language,
                          title: article.title, anchor: anchor });
      })
      .catch(function () {
        if (seq !== articleSeq || state.view !== "article") return;
        show(backButton(), h("p", { cls: "lz-error", role: "alert" }, t("articleError")), contactPrompt());
      });
  }

  function renderArticle(article, anchor) {
    var title = h("h3", { cls: "lz-article-title", tabindex: "-1" }, article.title);
    var content = h("div", { cls: "lz-article", onclick: onArticleClick }, safeFragment(article.html, ARTICLE_TAGS));
    var url = article.url && safeUrl(article.url);
    show(backButton(), title, content,
      h("p", { cls: "lz-muted lz-contact" },
        url ? [h("a", { href: url, target: "_blank", rel: "noopener" }, t("openFull") + " ↗"), " · "] : null, contactLink()),
      feedbackBlock(article));
    if (!showSection(anchor)) title.focus();
  }

  /** Scroll the panel (never the host page) so the section heading is at the top, under the
   *  sticky Back button, and focus it (a focus out of sight helps nobody); false if no such section. */
  function showSection(anchor) {
    var target = anchor && els.shadow.getElementById(anchor);
    if (!target) return false;
    var back = els.body.querySelector(".lz-back");
    target.classList.add("lz-target");
    target.tabIndex = -1;
    els.body.scrollTop += target.getBoundingClientRect().top - els.body.getBoundingClientRect().top -
      (back ? back.offsetHeight : 0) - 8;
    target.focus({ preventScroll: true });
    return true;
  }

  /** In-article "#section" links scroll inside the widget; other links open in a new tab. */
  function onArticleClick(event) {
    var link = event.target.closest && event.target.closest("a[href^='#']");
    if (!link) return;
    event.preventDefault();
    showSection(decodeURIComponent(link.getAttribute("href").slice(1)));
  }

  // ---- Feedback --------------------------------------------------------------------------------
  function feedbackBlock(article) {
    var box = h("div", { cls: "lz-feedback", role: "group", "aria-labelledby": "lz-fb-q" },
      h("p", { id: "lz-fb-q", cls: "lz-fb-q" }, t("helpful")),
      h("div", { cls: "lz-row" },
        h("button", { type: "button", cls: "lz-btn lz-btn-2", onclick: function () { sendFeedback(article, box, true); } }, t("yes")),
        h("button", { type: "button", cls: "lz-btn lz-btn-2", onclick: function () { askReason(article, box); } }, t("no"))));
    return box;
  }

  function askReason(article, box) {
    var form = h("form", { cls: "lz-form", onsubmit: function (event) {
      event.preventDefault();
      var fields = new FormData(form);
      sendFeedback(article, box, false, fields.get("reason") || "", String(fields.get("comment") || "").trim());
    } },
      h("fieldset", null, h("legend", null, t("whatWrong")), REASONS.map(function (reason) {
        return h("label", { cls: "lz-choice" }, h("input", { type: "radio", name: "reason", value: reason }), " ", t("reason_" + reason));
      })),
      h("label", { for: "lz-fb-comment" }, t("comment")),
      h("textarea", { id: "lz-fb-comment", name: "comment", rows: "3", maxlength: "2000" }),
      h("p", { cls: "lz-error", role: "alert" }),
      h("button", { type: "submit", cls: "lz-btn" }, t("send")));
    box.replaceChildren(form);
    form.querySelector("input").focus();
  }

  function sendFeedback(article, box, helpful, reason, comment) {
    box.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
    var fields = { article_id: article.id, helpful: helpful, reason: reason, comment: comment, query: state.query };
    api("/api/v1/feedback", { body: context(fields) })
      .then(function () {
        var thanks = h("p", { cls: "lz-thanks", tabindex: "-1" }, t("thanks"));
        box.replaceChildren(thanks, helpful ? null : contactPrompt());
        thanks.focus();
        emit("feedback", { article_id: article.id, helpful: helpful, reason: reason || null });
      })
      .catch(function (err) {
        box.querySelectorAll("button").forEach(function (b) { b.disabled = false; });
        var error = box.querySelector(".lz-error") || box.appendChild(h("p", { cls: "lz-error", role: "alert" }));
        error.textContent = err.status === 429 ? t("tooMany") : t("sendError");
      });
  }

  // ---- Contact support -------------------------------------------------------------------------
  function field(id, label, control) {
    control.id = id;
    control.setAttribute("aria-describedby", id + "-error");
    return h("div", { cls: "lz-field" }, h("label", { for: id }, label), control,
      h("p", { id: id + "-error", cls: "lz-error" }));
  }

  function showContact() {
    flushSearchLog();
    cancelSearch(); // a search answer arriving now must not replace the form
    state.from = state.view;
    state.view = "contact";
    var form = h("form", { cls: "lz-form", novalidate: true, onsubmit: submitContact },
      h("h3", { cls: "lz-h", tabindex: "-1" }, t("contact")),
      field("lz-c-name", t("name"), h("input", { name: "name", type: "text", autocomplete: "name", maxlength: "200", value: state.user.name })),
      field("lz-c-email", t("email"), h("input", { name: "email", type: "email", autocomplete: "email", required: true, maxlength: "200", value: state.user.email })),
      field("lz-c-message", t("message"), h("textarea", { name: "message", rows: "5", required: true, maxlength: "5000" })),
      h("p", { cls: "lz-error lz-send-error", role: "alert" }),
      h("div", { cls: "lz-row" },
        h("button", { type: "submit", cls: "lz-btn" }, t("send")),
        h("button", { type: "button", cls: "lz-btn lz-btn-2", onclick: goBack }, t("cancel"))));
    show(backButton(), form);
    var email = form.elements.namedItem("email");
    (email.value ? form.elements.namedItem("message") : email).focus();
  }

  /** Mark a form control invalid (or valid again); returns whether it was valid. */
  function check(control, ok, message) {
    control.setAttribute("aria-invalid", ok ? "false" : "true");
    els.shadow.getElementById(control.id + "-error").textContent = ok ? "" : message;
    return ok;
  }

  function submitContact(event) {
    event.preventDefault();
    var form = event.currentTarget;
    var name = form.elements.namedItem("name"), email = form.elements.namedItem("email"),
        message = form.elements.namedItem("message"), button = form.querySelector("[type=submit]");
    var emailOk = check(email, /^[^\s@]+@[^\s@]+\.[^\s@.]{2,}$/.test(email.value.trim()), t("emailInvalid"));
    var messageOk = check(message, !!message.value.trim(), t("messageRequired"));
    if (!emailOk || !messageOk) { (emailOk ? message : email).focus(); return; }

    button.disabled = true;
    button.textContent = t("sending");
    var fields = { email: email.value.trim(), name: name.value.trim(), message: message.value.trim(), query: state.query };
    api("/api/v1/contact", { body: context(fields) })
      .then(function (res) {
        var reference = (res.ticket && res.ticket.reference) || res.reference || "";
        state.user = { email: fields.email, name: fields.name };
        showSent(reference, res.message);   // 202: no reference yet, the server says why
        emit("contact", { reference: reference });
      })
      .catch(function (err) {
        button.disabled = false;
        button.textContent = t("send");
        form.querySelector(".lz-send-error").textContent = err.status === 429 ? t("tooMany") : t("sendError");
      });
  }

  function showSent(reference, note) {
    state.view = "sent";
    var said = reference ? t("sent") + " " + reference : note || "";
    var title = h("h3", { cls: "lz-sent-title", tabindex: "-1" }, t("sentTitle"));
    show(h("div", null, title, h("p", null, reference ? t("sent") : said),
      reference ? h("p", { cls: "lz-ref" }, reference) : null,
      h("p", { cls: "lz-muted" }, t("sentNote")),
      h("button", { type: "button", cls: "lz-btn lz-btn-2", onclick: function () {
        els.input.value = "";
        state.query = "";
        state.results = null;
        renderHome();
        els.input.focus();
      } }, t("newSearch"))));
    title.focus();
    announce(t("sentTitle") + ". " + said);
  }

  // ---- Suggestions -----------------------------------------------------------------------------
  var homeSeq = 0;

  /** Fetch the suggestions shown before the user types: presets first, then page matches. */
  function loadHome() {
    var seq = ++homeSeq;
    state.home = null;
    Promise.all([resolvePresets(state.presets), pageSuggestions()]).then(function (lists) {
      if (seq !== homeSeq) return;
      var seen = {};
      state.home = lists[0].concat(lists[1]).filter(function (item) {
        var key = item && (item.translation_key || item.id);
        return key && item.title && !seen[key] && (seen[key] = true);
      }).slice(0, MAX_HOME);
      if (state.view === "home") renderHome();
    });
  }

  function pageSuggestions() {
    var path = options.pagePath || location.pathname;
    return api("/api/v1/pages/suggestions?" + params({ path: path, lang: state.lang, site: options.site }))
      .then(function (res) { return res.articles || []; }, function () { return []; });
  }

  /** Linezero.suggest items: an article slug, or else search terms (their top results). */
  function resolvePresets(items) {
    return Promise.all(items.map(function (item) {
      var bySearch = function () {
        return api("/api/v1/search?" + params({ q: item.replace(/-/g, " "), lang: state.lang, site: options.site, per_page: 2 }))
          .then(function (res) { return res.hits || []; }, function () { return []; });
      };
      if (!/^[a-z0-9][a-z0-9-]*$/i.test(item)) return bySearch();
      return api("/api/v1/articles/" + state.lang + "/" + encodeURIComponent(item) + "?" + params({ site: options.site }))
        .then(function (article) { return [article]; }, bySearch);
    })).then(function (lists) { return [].concat.apply([], lists); });
  }

  function loadConfig() {
    if (!options.site) return;
    api("/api/v1/widget/config?" + params({ site: options.site, lang: state.lang }))
      .then(function (config) {
        els.site.textContent = config.site.name;
        els.panel.setAttribute("aria-label", t("title") + " · " + config.site.name);
      }, function (err) {
        if (err.status === 404) console.warn("Linezero: unknown data-site " + JSON.stringify(options.site));
      });
  }

  /** The incident notice staff published (an outage being fixed), on top while it is active. */
  function loadNotice() {
    api("/api/v1/notices?" + params({ lang: state.lang, site: options.site })).then(function (res) {
      var notice = (res.notices || [])[0];
      els.notice.textContent = notice ? notice.text : "";
      els.notice.hidden = !notice;
    }, function () {});
  }

  // ---- Open, close, keyboard -------------------------------------------------------------------
  function open() {
    if (state.open) return;
    state.open = true;
    loadNotice();
    els.panel.hidden = false;
    els.root.classList.add("lz-open");
    els.launcher.setAttribute("aria-expanded", "true");
    if (!state.started) {
      state.started = true;
      loadConfig();
      loadHome();
      renderHome();
    }
    els.input.focus();
    emit("open", {});
  }

  function close() {
    if (!state.open) return;
    flushSearchLog();
    var hadFocus = !!els.shadow.activeElement;
    state.open = false;
    els.panel.hidden = true;
    els.root.classList.remove("lz-open");
    els.launcher.setAttribute("aria-expanded", "false");
    if (hadFocus) els.launcher.focus(); // back where the keyboard user started
    emit("close", {});
  }

  function focusables() {
    var selector = "button:not([disabled]), a[href], input:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex='-1'])";
    return Array.prototype.filter.call(els.panel.querySelectorAll(selector), function (el) {
      return el.getClientRects().length > 0;
    });
  }

  /** Keep Tab and Shift+Tab inside the open dialog. */
  function trapTab(event) {
    var items = focusables();
    var active = els.shadow.activeElement;
    if (!items.length || !els.panel.contains(active)) return;
    var first = items[0], last = items[items.length - 1];
    if (event.shiftKey && active === first) { event.preventDefault(); last.focus(); }
    else if (!event.shiftKey && active === last) { event.preventDefault(); first.focus(); }
  }

  /** Arrow keys move between the search box and the listed articles. */
  function moveInList(event) {
    var active = els.shadow.activeElement;
    if (active !== els.input && !(active && active.classList.contains("lz-hit"))) return;
    var hits = Array.prototype.slice.call(els.body.querySelectorAll(".lz-hit"));
    var index = hits.indexOf(active) + (event.key === "ArrowDown" ? 1 : -1);
    if (active === els.input && event.key === "ArrowUp") return;
    event.preventDefault();
    (index < 0 ? els.input : hits[Math.min(index, hits.length - 1)] || els.input).focus();
  }

  function onKeydown(event) {
    if (!state.open) return;
    if (event.key === "Escape") { event.preventDefault(); close(); }
    else if (event.key === "Tab") trapTab(event);
    else if (event.key === "ArrowDown" || event.key === "ArrowUp") moveInList(event);
  }

  // ---- Language --------------------------------------------------------------------------------
  /** Texts of the shell (the views are rendered with t() as they are shown). */
  function applyStrings() {
    els.launcherText.textContent = options.launcherText || t("launcher");
    els.title.textContent = t("title");
    els.panel.setAttribute("aria-label", t("title") + (els.site.textContent ? " · " + els.site.textContent : ""));
    els.close.setAttribute("aria-label", t("close"));
    els.close.title = t("close");
    els.label.textContent = t("searchLabel");
    els.input.placeholder = t("placeholder");
    els.root.lang = state.lang;
  }

  function setLanguage(lang) {
    var code = String(lang || "").toLowerCase().split(/[-_]/)[0];
    if (LANGS.indexOf(code) < 0) { console.warn("Linezero: unsupported language " + lang); return; }
    state.lang = code;
    applyStrings();
    if (!state.started) return;
    loadHome();
    loadNotice();
    if (state.view === "home") renderHome();
    else if (state.view === "results" && state.query) runSearch(state.query, false);
    else if (state.view === "article" && state.article) {
      var translated = (state.article.translations || []).indexOf(code) >= 0;
      openArticle(translated ? code : state.article.language, state.article.slug, "");
    }
  }

  // ---- Public API ------------------------------------------------------------------------------
  function search(query) {
    query = String(query || "").trim();
    open();
    els.input.value = query;
    if (query.length >= MIN_QUERY) runSearch(query, true);
  }

  function identify(user) {
    user = user || {};
    state.user = { email: String(user.email || "").slice(0, 200), name: String(user.name || "").slice(0, 200) };
    // Fill an open contact form's empty fields.
    ["name", "email"].forEach(function (key) {
      var control = els.shadow.getElementById("lz-c-" + key);
      if (control && !control.value) control.value = state.user[key];
    });
  }

  function suggest(items) {
    state.presets = (Array.isArray(items) ? items : [items]).map(String).filter(Boolean).slice(0, MAX_HOME);
    if (state.started) loadHome();
  }

  function on(name, handler) {
    (handlers[name] = handlers[name] || []).push(handler);
    return function off() {
      handlers[name] = (handlers[name] || []).filter(function (fn) { return fn !== handler; });
    };
  }

  // ---- Mount -----------------------------------------------------------------------------------
  var CSS_TEXT = [
    // The host element and our root reset everything the page could leak in (inherited fonts,
    // colors, line-height...). Only --lz-* custom properties pass through, by design.
    ":host{all:initial}",
    // The root is a fixed box over the visual viewport (see fitViewport), transparent to clicks.
    ".lz{all:initial;position:fixed;inset:0;z-index:var(--lz-z-index,2147483647);pointer-events:none;",
    "--c:var(--lz-color,#2451c7);--ct:var(--lz-color-text,#fff);--r:var(--lz-radius,14px);",
    "font:15px/1.45 var(--lz-font,system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif);color:#1d2430;text-align:left}",
    ".lz *,.lz *::before,.lz *::after{box-sizing:border-box}",
    "[hidden]{display:none!important}",
    "button,input,textarea{font:inherit;color:inherit;margin:0}",
    "button{cursor:pointer}",
    // Focus moved by script (article title or section, thanks, sent) shows too, even after a click.
    // Two tones (a dark ring between light halos) stand out on any page, panel or brand color.
    ".lz :focus-visible,.lz [tabindex='-1']:focus{outline:2px solid #1d2430;outline-offset:2px;box-shadow:0 0 0 6px #fff}",
    "[tabindex='-1']:focus{border-radius:4px}",
    ".lz-sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}",
    ".lz-launcher,.lz-panel{position:absolute;pointer-events:auto}",
    ".lz-launcher{bottom:20px;right:20px;display:flex;align-items:center;gap:8px;height:48px;padding:0 20px 0 16px;",
    "border:0;border-radius:24px;background:var(--c);color:var(--ct);font-weight:600;box-shadow:0 4px 16px rgba(0,0,0,.25)}",
    ".lz-launcher svg{width:22px;height:22px;fill:none;stroke:currentColor;stroke-width:2}",
    ".lz-left .lz-launcher,.lz-left .lz-panel{right:auto;left:20px}",
    ".lz-panel{bottom:80px;right:20px;width:390px;max-width:calc(100% - 32px);height:620px;max-height:calc(100% - 100px);",
    "display:flex;flex-direction:column;overflow:hidden;background:#fff;border-radius:var(--r);box-shadow:0 12px 48px rgba(0,0,0,.3);animation:lz-in .15s ease-out}",
    "@keyframes lz-in{from{opacity:0;transform:translateY(8px)}}",
    "@media (prefers-reduced-motion:reduce){.lz-panel{animation:none}}",
    "@media (max-width:480px){.lz .lz-panel{top:0;right:0;bottom:0;left:0;width:auto;height:auto;max-width:none;max-height:none;border-radius:0}",
    ".lz-open .lz-launcher{display:none}}",
    "@media print{.lz{display:none}}",
    ".lz-head{display:flex;justify-content:space-between;align-items:flex-start;gap:8px;padding:16px 16px 10px;background:var(--c);color:var(--ct)}",
    ".lz-title{margin:0;font-size:18px;font-weight:650;line-height:1.3}",
    ".lz-site{margin:2px 0 0;font-size:13px;opacity:.85}",
    ".lz-close{display:flex;padding:4px;border:0;border-radius:8px;background:none;color:inherit}",
    ".lz-close svg{width:22px;height:22px;stroke:currentColor;stroke-width:2}",
    ".lz-search{margin:0;padding:0 16px 16px;background:var(--c)}",
    ".lz-input{display:block;width:100%;height:42px;padding:0 12px;border:0;border-radius:10px;background:#fff;color:#1d2430;font-size:15px}",
    ".lz-notice{margin:0;padding:10px 16px;background:#fff4e5;color:#4d3200;font-size:14px;border-bottom:1px solid #f0d6a8}",
    ".lz-body{position:relative;flex:1;overflow-y:auto;overscroll-behavior:contain;padding:14px 16px 20px}",
    ".lz-body[aria-busy=true]{opacity:.6}",
    ".lz-h{margin:4px 0 8px;font-size:13px;font-weight:650;letter-spacing:.02em;text-transform:uppercase;color:#5b6472}",
    ".lz-muted,.lz-count{margin:4px 0 10px;color:#5b6472;font-size:14px}",
    ".lz-list{list-style:none;margin:0 0 8px;padding:0}",
    ".lz-hit{display:block;width:100%;padding:10px;margin:0 0 4px;border:0;border-radius:10px;background:none;text-align:left;color:inherit;text-decoration:none}",
    ".lz-hit:hover,.lz-hit:focus-visible{background:#f1f4f9}",
    ".lz-hit-title{display:block;font-weight:600;color:var(--c)}",
    ".lz-hit-section{display:block;font-size:13px;color:#5b6472}",
    ".lz-hit-section::before{content:'› '}",
    ".lz-hit-text{display:block;margin-top:2px;font-size:14px;color:#3b4350}",
    "mark{background:#ffe58f;color:inherit;border-radius:2px;padding:0 1px}",
    ".lz-link{padding:0;border:0;background:none;color:var(--c);text-decoration:underline}",
    ".lz-back{position:sticky;z-index:1;top:-14px;display:block;width:calc(100% + 32px);margin:-14px -16px 6px;padding:10px 16px 8px;border:0;background:#fff;text-align:left;color:var(--c);font-weight:600}",
    ".lz .lz-back:focus-visible{outline-offset:-4px;box-shadow:inset 0 0 0 6px #fff}",
    ".lz-btn{padding:8px 16px;border:1px solid var(--c);border-radius:10px;background:var(--c);color:var(--ct);font-weight:600}",
    ".lz-btn-2{background:#fff;color:#1d2430;border-color:#c8ced8}",
    ".lz-btn:disabled{opacity:.6;cursor:default}",
    ".lz-row{display:flex;gap:8px;flex-wrap:wrap}",
    ".lz-more{margin-top:16px;padding-top:14px;border-top:1px solid #e3e7ee}",
    ".lz-more p{margin:0 0 8px;color:#5b6472;font-size:14px}",
    ".lz-article-title,.lz-sent-title{margin:0 0 8px;font-size:20px;line-height:1.3}",
    ".lz-article{font-size:15px;overflow-wrap:anywhere}",
    ".lz-article h1,.lz-article h2,.lz-article h3,.lz-article h4{margin:18px 0 6px;font-size:17px;line-height:1.3;scroll-margin-top:8px}",
    ".lz-article p,.lz-article ul,.lz-article ol,.lz-article pre,.lz-article table,.lz-article blockquote{margin:0 0 10px}",
    ".lz-article ul,.lz-article ol{padding-left:22px}",
    ".lz-article a,.lz-muted a{color:var(--c)}",
    ".lz-article img{max-width:100%;height:auto}",
    ".lz-article code{padding:1px 4px;border-radius:4px;background:#f1f4f9;font:13px ui-monospace,Menlo,Consolas,monospace}",
    ".lz-article pre{padding:10px;overflow-x:auto;border-radius:8px;background:#f1f4f9}",
    ".lz-article pre code{padding:0}",
    // a table keeps its words whole and scrolls sideways (not "Unlim|ited" in a narrow panel)
    ".lz-article table{border-collapse:collapse;display:block;overflow-x:auto;overflow-wrap:normal}",
    ".lz-article td,.lz-article th{padding:4px 8px;border:1px solid #e3e7ee}",
    ".lz-article blockquote{padding-left:12px;border-left:3px solid #e3e7ee;color:#3b4350}",
    ".lz-target{margin-left:-6px;margin-right:-6px;padding:2px 6px;background:#fff6d6;border-radius:4px}",
    ".lz-feedback{margin-top:20px;padding-top:14px;border-top:1px solid #e3e7ee}",
    ".lz-fb-q{margin:0 0 8px;font-weight:600}",
    ".lz-form{display:flex;flex-direction:column;gap:8px}",
    ".lz-form fieldset{margin:0;padding:0;border:0}",
    ".lz-form legend{padding:0;margin-bottom:4px;font-weight:600}",
    ".lz-form label{font-size:14px;font-weight:600}",
    ".lz-form .lz-choice{display:block;padding:3px 0;font-weight:400}",
    ".lz-form>.lz-btn{align-self:flex-start}",
    ".lz-field{display:flex;flex-direction:column;gap:4px}",
    ".lz-form input[type=text],.lz-form input[type=email],.lz-form textarea{width:100%;padding:8px 10px;border:1px solid #c8ced8;border-radius:8px;background:#fff}",
    ".lz-form textarea{resize:vertical}",
    "[aria-invalid=true]{border-color:#c62828!important}",
    ".lz-error{margin:0;color:#c62828;font-size:14px}",
    ".lz-error:empty{display:none}",
    ".lz-thanks{margin:0 0 6px;font-weight:600}",
    ".lz-ref{margin:4px 0 10px;font-size:24px;font-weight:700;letter-spacing:.04em;color:var(--c)}",
  ].join("\n");

  var ICON_HELP = '<svg viewBox="0 0 24 24" aria-hidden="true"><circle cx="12" cy="12" r="10"/>' +
    '<path d="M9.1 9a3 3 0 0 1 5.8 1c0 2-3 3-3 3M12 17h.01"/></svg>';
  var ICON_CLOSE = '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M6 6l12 12M18 6L6 18"/></svg>';

  /** The CSS as a constructable stylesheet, which a page's CSP (style-src) does not block; a
   *  <style> where those are not supported (Safari before 16.4). */
  function applyStyles(shadow) {
    try {
      var sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS_TEXT);
      shadow.adoptedStyleSheets = [sheet];
    } catch (err) {
      shadow.prepend(h("style", null, CSS_TEXT));
    }
  }

  /** Lay the root box over the visual viewport: on a page wider than a phone's screen the layout
   *  viewport (where position:fixed is anchored) is wider than what the user sees. */
  function fitViewport() {
    var view = window.visualViewport;
    if (!view) return;
    var box = { left: view.offsetLeft, top: view.offsetTop, width: view.width, height: view.height };
    Object.keys(box).forEach(function (key) { els.root.style.setProperty(key, box[key] + "px"); });
  }

  /** Build the shell in a Shadow DOM on <linezero-widget> at the end of <body>. The markup is a
   *  constant (no data in it); every text is set through textContent. */
  function mount() {
    var host = document.createElement("linezero-widget");
    if (options.color && window.CSS && CSS.supports("color", options.color)) host.style.setProperty("--lz-color", options.color);
    var shadow = host.attachShadow({ mode: "open" });
    shadow.innerHTML =
      '<div class="lz' + (options.position === "left" ? " lz-left" : "") + '">' +
      '<div class="lz-sr" role="status" aria-live="polite" aria-atomic="true"></div>' +
      '<div class="lz-panel" id="lz-panel" role="dialog" aria-modal="true" hidden>' +
      '<div class="lz-head"><div><h2 class="lz-title"></h2><p class="lz-site"></p></div>' +
      '<button type="button" class="lz-close">' + ICON_CLOSE + "</button></div>" +
      '<form class="lz-search" role="search"><label class="lz-sr" for="lz-q"></label>' +
      '<input class="lz-input" id="lz-q" type="search" autocomplete="off" spellcheck="false" maxlength="200" enterkeyhint="search"></form>' +
      '<p class="lz-notice" role="status" hidden></p><div class="lz-body"></div></div>' +
      '<button type="button" class="lz-launcher" aria-expanded="false" aria-controls="lz-panel" aria-haspopup="dialog">' +
      ICON_HELP + '<span class="lz-launcher-text"></span></button></div>';

    var $ = function (selector) { return shadow.querySelector(selector); };
    els = { shadow: shadow, root: $(".lz"), live: $(".lz-sr"), panel: $(".lz-panel"), title: $(".lz-title"),
            site: $(".lz-site"), close: $(".lz-close"), label: $("label"), input: $(".lz-input"),
            body: $(".lz-body"), launcher: $(".lz-launcher"), launcherText: $(".lz-launcher-text"),
            notice: $(".lz-notice") };
    applyStyles(shadow);
    applyStrings();
    fitViewport();

    els.launcher.addEventListener("click", function () { state.open ? close() : open(); });
    els.close.addEventListener("click", close);
    els.input.addEventListener("input", onInput);
    $(".lz-search").addEventListener("submit", onSubmit);
    els.root.addEventListener("keydown", onKeydown);
    window.addEventListener("pagehide", function () { leaving = true; flushSearchLog(); });
    window.addEventListener("pageshow", function () { leaving = false; });
    if (window.visualViewport) {
      visualViewport.addEventListener("resize", fitViewport);
      visualViewport.addEventListener("scroll", fitViewport);
    }
    // A host dialog's focus trap (Bootstrap's modal...) pulls the focus back into the dialog when
    // a focusin from outside it reaches the document: while open, ours stop at the host.
    host.addEventListener("focusin", function (event) { if (state.open) event.stopPropagation(); });

    (document.body || document.documentElement).appendChild(host);
    window.Linezero = { version: VERSION, open: open, close: close, search: search, identify: identify,
                        setLanguage: setLanguage, suggest: suggest, on: on };
    window.dispatchEvent(new CustomEvent("linezero:ready", { detail: { version: VERSION } }));
  }

  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
})();
