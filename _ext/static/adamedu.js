/* The book's small fixes to the theme's behaviour; loaded on every page (_ext/adamedu_site.py). */
(function () {
  "use strict";

  function ready(callback) {
    if (document.readyState !== "loading") callback();
    else document.addEventListener("DOMContentLoaded", callback);
  }

  /* The navigation (☰) and contents buttons. pydata-sphinx-theme 0.17 puts a toggle of each kind
     in its own header, which sphinx-book-theme hides, and both themes bind their click handlers
     to the first toggle in the page: the hidden one. A click on a visible toggle is handed to
     that first one, so the theme opens its panel (a dialog on a narrow screen, the sidebar
     folding away on a wide one). */
  function forwardToggles(selector) {
    const toggles = Array.from(document.querySelectorAll(selector));
    const bound = toggles[0];
    toggles.slice(1).forEach((toggle) => {
      toggle.addEventListener("click", (event) => {
        event.preventDefault();
        event.stopPropagation();
        bound.click();
      });
    });
    toggles.forEach((toggle) => {
      if (!toggle.getAttribute("aria-label")) {
        toggle.setAttribute(
          "aria-label",
          selector === ".primary-toggle" ? "Site navigation" : "Contents of this page",
        );
      }
    });
  }

  /* Tables: every cell knows its column's name, so a table too wide for a phone can become a
     stack of cards (adamedu.css). */
  function labelTables() {
    document.querySelectorAll(".bd-article table").forEach((table) => {
      const heads = Array.from(table.querySelectorAll("thead th")).map((th) => th.textContent.trim());
      if (heads.length < 2) return;
      table.querySelectorAll("tbody tr").forEach((row) => {
        Array.from(row.children).forEach((cell, index) => {
          if (heads[index]) cell.setAttribute("data-label", heads[index]);
        });
      });
      table.classList.add("adamedu-labelled");
    });
  }

  function stackWideTables() {
    document.querySelectorAll("table.adamedu-labelled").forEach((table) => {
      table.classList.remove("adamedu-stacked");
      const box = table.closest(".pst-scrollable-table-container") || table.parentElement;
      if (table.scrollWidth > box.clientWidth + 1) table.classList.add("adamedu-stacked");
    });
  }

  /* An inline formula wider than the column (MathJax 3 does not break lines) scrolls within
     itself instead of widening the page. */
  function fitWideInlineMath() {
    document.querySelectorAll(".bd-article span.math > mjx-container").forEach((math) => {
      math.classList.remove("adamedu-wide-inline");
      const block = math.closest("p, li, dd, td, th, div") || document.body;
      if (math.getBoundingClientRect().width > block.clientWidth) {
        math.classList.add("adamedu-wide-inline");
      }
    });
  }

  function afterMathJax(callback) {
    const run = () => {
      const startup = window.MathJax && window.MathJax.startup;
      if (startup && startup.promise) startup.promise.then(callback);
      else callback();
    };
    if (document.readyState === "complete") run();
    else window.addEventListener("load", run);
  }

  /* "Print this summary": prints the home page's one-page summary alone. */
  function printButtons() {
    document.querySelectorAll("[data-adamedu-print]").forEach((button) => {
      button.hidden = false;
      button.addEventListener("click", () => {
        document.documentElement.classList.add("adamedu-print-" + button.dataset.adameduPrint);
        window.print();
      });
    });
    window.addEventListener("afterprint", () => {
      Array.from(document.documentElement.classList)
        .filter((name) => name.startsWith("adamedu-print-"))
        .forEach((name) => document.documentElement.classList.remove(name));
    });
  }

  ready(() => {
    forwardToggles(".primary-toggle");
    forwardToggles(".secondary-toggle");
    labelTables();
    stackWideTables();
    printButtons();
    afterMathJax(() => {
      stackWideTables(); // typeset formulas widen tables
      fitWideInlineMath();
    });
    let timer = null;
    window.addEventListener("resize", () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        stackWideTables();
        fitWideInlineMath();
      }, 150);
    });
  });
})();
