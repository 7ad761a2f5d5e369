// The policy editor: line numbers beside a plain <textarea>, and live validation as you type.
// Progressive enhancement only: without this file the form still posts and the server shows the same findings.
// Every textarea with data-policy-editor gets it; data-validate-url is the JSON endpoint, data-kind what the
// document is for (managed, inline, trust, simulation). The CSRF token comes from the enclosing form.
(function () {
  "use strict";

  function csrfToken(textarea) {
    var form = textarea.form;
    var field = form && form.querySelector("input[type=hidden][name=csrf_token]");
    return field ? field.value : "";
  }

  function setUp(textarea) {
    var wrapper = document.createElement("div");
    wrapper.className = "policy-editor";
    var gutter = document.createElement("pre");
    gutter.className = "policy-gutter";
    gutter.setAttribute("aria-hidden", "true");
    textarea.parentNode.insertBefore(wrapper, textarea);
    wrapper.appendChild(gutter);
    wrapper.appendChild(textarea);
    textarea.setAttribute("wrap", "off");
    textarea.spellcheck = false;

    var listId = textarea.getAttribute("data-findings");
    var list = listId ? document.getElementById(listId) : null;
    var status = document.getElementById(textarea.getAttribute("data-status") || "");
    var marks = {};
    var timer = null;
    var sent = 0;

    function drawGutter() {
      var count = textarea.value.split("\n").length;
      gutter.textContent = "";
      for (var n = 1; n <= count; n++) {
        var span = document.createElement("span");
        span.textContent = String(n);
        if (marks[n]) {
          span.className = "mark-" + marks[n];
          span.title = marks[n];
        }
        gutter.appendChild(span);
        gutter.appendChild(document.createTextNode("\n"));
      }
      gutter.scrollTop = textarea.scrollTop;
    }

    function goTo(line, column) {
      var lines = textarea.value.split("\n");
      var offset = 0;
      for (var n = 0; n < line - 1 && n < lines.length; n++) {
        offset += lines[n].length + 1;
      }
      offset += Math.max(0, (column || 1) - 1);
      textarea.focus();
      textarea.setSelectionRange(offset, offset);
      var height = textarea.scrollHeight / Math.max(1, lines.length);
      textarea.scrollTop = Math.max(0, (line - 3) * height);
    }

    function show(findings) {
      marks = {};
      findings.forEach(function (f) {
        if (f.line && marks[f.line] !== "error") {
          marks[f.line] = f.severity;
        }
      });
      drawGutter();
      if (!list) {
        return;
      }
      list.textContent = "";
      findings.forEach(function (f) {
        var item = document.createElement("li");
        item.className = "finding finding-" + f.severity;
        item.setAttribute("data-testid", "finding");
        var button = document.createElement("button");
        button.type = "button";
        button.className = "finding-jump";
        var where = f.line ? "Line " + f.line + ", column " + f.column : "Document";
        button.textContent = where;
        if (f.line) {
          button.addEventListener("click", function () { goTo(f.line, f.column); });
        } else {
          button.disabled = true;
        }
        var text = document.createElement("span");
        text.textContent = " " + (f.severity === "error" ? "Error: " : "Warning: ") + f.message +
          (f.detail ? " (" + f.detail + ")" : "") + " [" + f.code + "]";
        item.appendChild(button);
        item.appendChild(text);
        list.appendChild(item);
      });
      if (status) {
        var errors = findings.filter(function (f) { return f.severity === "error"; }).length;
        var warnings = findings.length - errors;
        status.textContent = errors || warnings
          ? errors + " error(s), " + warnings + " warning(s)"
          : "No problems found.";
        status.className = errors ? "editor-status has-errors" : "editor-status";
      }
    }

    function validate() {
      var mine = ++sent;
      fetch(textarea.getAttribute("data-validate-url"), {
        method: "POST",
        credentials: "same-origin",
        headers: {"Content-Type": "application/json", "X-CSRF-Token": csrfToken(textarea)},
        body: JSON.stringify({document: textarea.value, kind: textarea.getAttribute("data-kind") || "managed"})
      }).then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      }).then(function (answer) {
        if (mine === sent) {
          show(answer.findings || []);
        }
      }).catch(function () {
        if (status && mine === sent) {
          status.textContent = "Live validation is unavailable; the document is checked when you save.";
        }
      });
    }

    textarea.addEventListener("input", function () {
      drawGutter();
      clearTimeout(timer);
      timer = setTimeout(validate, 300);
    });
    textarea.addEventListener("scroll", function () { gutter.scrollTop = textarea.scrollTop; });
    textarea.addEventListener("keydown", function (event) {
      // Tab indents inside the editor; Escape then Tab (or Shift+Tab) leaves it, so the keyboard is never trapped.
      if (event.key === "Tab" && !event.shiftKey && !textarea.dataset.escaped) {
        event.preventDefault();
        var start = textarea.selectionStart;
        textarea.setRangeText("    ", start, textarea.selectionEnd, "end");
        textarea.dispatchEvent(new Event("input"));
      }
      textarea.dataset.escaped = event.key === "Escape" ? "1" : "";
    });
    var format = document.createElement("button");
    format.type = "button";
    format.className = "secondary editor-format";
    format.id = textarea.id + "-format";
    format.textContent = "Format JSON";
    format.addEventListener("click", function () {
      try {
        textarea.value = JSON.stringify(JSON.parse(textarea.value), null, 4);
        textarea.dispatchEvent(new Event("input"));
      } catch (e) {
        if (status) {
          status.textContent = "The document is not valid JSON yet, so it cannot be formatted.";
        }
      }
    });
    wrapper.parentNode.insertBefore(format, wrapper.nextSibling);

    drawGutter();
    if (textarea.value.trim()) {
      validate();
    }
  }

  document.querySelectorAll("textarea[data-policy-editor]").forEach(setUp);
})();
