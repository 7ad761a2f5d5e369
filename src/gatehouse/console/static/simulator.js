// The policy simulator form: shows the fieldset of the chosen mode (a principal, or pasted policies) and adds
// context-key rows. Without this file every fieldset is shown and the form has a fixed number of rows.
(function () {
  "use strict";
  var form = document.getElementById("simulator-form");
  if (!form) {
    return;
  }

  function showMode() {
    var chosen = form.querySelector("input[name=mode]:checked");
    var mode = chosen ? chosen.value : "principal";
    form.querySelectorAll("[data-mode]").forEach(function (part) {
      part.hidden = part.getAttribute("data-mode") !== mode;
    });
  }
  form.querySelectorAll("input[name=mode]").forEach(function (radio) {
    radio.addEventListener("change", showMode);
  });
  showMode();

  var add = document.getElementById("sim-add-context");
  var body = document.getElementById("sim-context-rows");
  if (add && body) {
    add.hidden = false;
    add.addEventListener("click", function () {
      var rows = body.querySelectorAll("tr");
      var last = rows[rows.length - 1];
      var copy = last.cloneNode(true);
      var n = rows.length + 1;
      copy.querySelectorAll("input, select").forEach(function (control) {
        var base = control.id.replace(/-\d+$/, "");
        control.id = base + "-" + n;
        if (control.tagName === "INPUT") {
          control.value = "";
        }
      });
      copy.querySelectorAll("label").forEach(function (label) {
        label.htmlFor = label.htmlFor.replace(/-\d+$/, "") + "-" + n;
      });
      body.appendChild(copy);
      copy.querySelector("input").focus();
    });
  }
})();
