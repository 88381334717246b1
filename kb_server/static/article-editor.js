/* Article editor: live preview (the server renders and sanitizes it exactly as the help center
   does), autosave, image/attachment upload, slug from the title. The form works without it. */
(function () {
  "use strict";
  var form = document.getElementById("article-form");
  if (!form) { return; }
  var csrf = form.elements.csrf_token.value;
  var body = form.elements.body;
  var preview = form.querySelector("[data-preview]");
  var status = form.querySelector("[data-autosave-status]");
  var PREVIEW_DELAY = 250, AUTOSAVE_DELAY = 3000;

  function post(url, payload) {
    var isForm = payload instanceof FormData;
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: isForm ? { "X-CSRFToken": csrf } : { "X-CSRFToken": csrf, "Content-Type": "application/json" },
      body: isForm ? payload : JSON.stringify(payload)
    }).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) { throw new Error(data.message || data.error || response.statusText); }
        return data;
      });
    });
  }

  function debounce(fn, delay) {
    var timer = null;
    return function () { clearTimeout(timer); timer = setTimeout(fn, delay); };
  }

  var previewSeq = 0;
  var refreshPreview = debounce(function () {
    var seq = ++previewSeq;
    var values = new FormData(form);     // (a published article's language: a hidden input)
    post(form.dataset.previewUrl, { body: body.value, language: values.get("language"),
                                     slug: values.get("slug") }).then(function (data) {
      if (seq === previewSeq) { preview.innerHTML = data.html; }   // sanitized by the server
    }).catch(function () {});
  }, PREVIEW_DELAY);

  function fields() {
    var data = {};
    ["article_id", "source_ticket", "title", "slug", "language", "category", "visibility", "tags",
     "translation_key", "summary", "urls", "body"].forEach(function (name) {
      var field = form.elements[name];
      if (field && field.length && !field.tagName) { field = field[field.length - 1]; }   // hidden twin
      if (field) { data[name] = field.value; }
    });
    return data;
  }

  var dirty = false;
  var autosave = debounce(function () {
    if (!dirty || !form.elements.title.value || !form.elements.slug.value) { return; }
    dirty = false;
    status.textContent = form.dataset.msgSaving;
    post(form.dataset.autosaveUrl, fields()).then(function (data) {
      form.elements.article_id.value = data.article_id;
      form.action = data.save_url;
      if (location.pathname !== data.edit_url) { history.replaceState(null, "", data.edit_url); }
      status.textContent = form.dataset.msgSaved + " · " + new Date().toLocaleTimeString();
      status.classList.remove("failed");
    }).catch(function (error) {
      status.textContent = form.dataset.msgFailed + ": " + error.message;
      status.classList.add("failed");
    });
  }, AUTOSAVE_DELAY);

  form.addEventListener("input", function (event) {
    if (event.target.name === "note") { return; }
    dirty = true;
    if (event.target === body) { refreshPreview(); }
    autosave();
  });
  form.addEventListener("submit", function () { dirty = false; });

  // The heading follows the title.
  var heading = document.querySelector("[data-title-mirror]");
  form.elements.title.addEventListener("input", function () {
    heading.textContent = form.elements.title.value || heading.dataset.empty;
  });

  // Slug follows the title until the writer edits it (new articles only).
  var slug = form.querySelector("[data-slug]");
  var title = form.querySelector("[data-slug-source]");
  if (slug && title && !slug.value && !slug.readOnly) {
    var follow = true;
    slug.addEventListener("input", function () { follow = false; });
    title.addEventListener("input", function () {
      if (follow) {
        slug.value = title.value.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 80);
      }
    });
  }

  // Upload: the server checks type and size; the Markdown goes in at the cursor.
  var upload = form.querySelector("[data-upload]");
  if (upload) {
    upload.addEventListener("change", function () {
      if (!upload.files.length) { return; }
      var data = new FormData();
      data.append("file", upload.files[0]);
      post(form.dataset.uploadUrl, data).then(function (result) {
        var at = body.selectionStart || body.value.length;
        body.value = body.value.slice(0, at) + result.markdown + body.value.slice(at);
        body.dispatchEvent(new Event("input", { bubbles: true }));
      }).catch(function (error) {
        status.textContent = error.message;
        status.classList.add("failed");
      }).then(function () { upload.value = ""; });
    });
  }
})();
