// Gatehouse console: progressive enhancement only (every page works without it). No inline handlers: CSP.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  // Copy buttons: <button type="button" data-copy="element-id">
  document.querySelectorAll("[data-copy]").forEach((button) => {
    button.hidden = false;
    button.addEventListener("click", async () => {
      const source = document.getElementById(button.dataset.copy);
      if (!source) return;
      const text = "value" in source && source.value !== undefined ? source.value : source.textContent;
      try {
        await navigator.clipboard.writeText(text.trim());
        button.textContent = "Copied";
      } catch (e) {
        const range = document.createRange();
        range.selectNodeContents(source);
        const sel = window.getSelection();
        sel.removeAllRanges();
        sel.addRange(range);
        button.textContent = "Selected: press Ctrl+C";
      }
    });
  });
  // Confirmation before destructive forms: <form data-confirm="Delete user alice?">
  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });
  // Policy templates: <button type="button" data-fill="textarea-id" data-template-source="script/pre id">
  document.querySelectorAll("[data-fill]").forEach((button) => {
    button.hidden = false;
    button.addEventListener("click", () => {
      const target = document.getElementById(button.dataset.fill);
      const source = document.getElementById(button.dataset.templateSource);
      if (target && source) {
        target.value = source.textContent.trim();
        target.dispatchEvent(new Event("input", { bubbles: true }));
        target.focus();
      }
    });
  });
});
