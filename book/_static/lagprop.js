/* Backpropagation from Lagrangians: small behaviours the theme lacks (see lagprop.css).
   Loaded on every page by book/_ext/page_style.py. */
(function () {
  "use strict";

  /* Mark every box that scrolls sideways, so the stylesheet draws the scroll cue on it. */
  var SCROLLERS = 'span.math, div.math mjx-container[display="true"], div.highlight pre, ' +
                  '.cell_output pre, .output pre, table.api-summary';
  function markScrollers() {
    document.querySelectorAll(SCROLLERS).forEach(function (el) {
      if (el.matches("span.math")) {
        // an inline formula scrolls only when it is wider than the line it sits on
        el.classList.remove("lp-scrolls");
        var inner = el.querySelector("mjx-container");
        var width = inner ? inner.getBoundingClientRect().width : el.scrollWidth;
        var room = (el.closest("p, li, td, dd, div") || el.parentElement).clientWidth;
        if (width > room + 1) el.classList.add("lp-scrolls");
        return;
      }
      el.classList.toggle("lp-scrolls", el.scrollWidth > el.clientWidth + 1);
      if (el.classList.contains("lp-scrolls") && !el.hasAttribute("tabindex")) {
        el.setAttribute("tabindex", "0"); // keyboard users can scroll it too
      }
    });
  }

  /* A solution's title reads "Solution to Exercise 2.3", and the theme makes "Exercise 2.3" a link
     that jumps back to the exercise: make the whole title open and close the solution instead. */
  function solutionTitles() {
    document.querySelectorAll(".solution .admonition-title a.reference").forEach(function (a) {
      var span = document.createElement("span");
      span.className = "lp-solution-of";
      while (a.firstChild) span.appendChild(a.firstChild);
      span.title = "the exercise is above";
      a.replaceWith(span);
    });
  }

  /* Accessible names that match what is shown (WCAG 2.5.3, label in name), checked with axe-core
     by the browser test; the theme's controls are the cause, so they are corrected here. */
  function accessibleNames() {
    // the search buttons read "Search Ctrl+K" but are named "Search": name them by their text
    document.querySelectorAll(".search-button-field[aria-label]").forEach(function (b) {
      var shown = b.innerText.replace(/\s+/g, " ").trim();
      if (shown) b.setAttribute("aria-label", shown);
    });
    // collapsed cells: <summary aria-label="Toggle hidden content"> shows "Show code cell
    // source"; its shown text is the better name
    document.querySelectorAll("summary[aria-label]").forEach(function (s) {
      if (s.innerText.trim()) s.removeAttribute("aria-label");
    });
    // the sidebar's expand arrows (a <summary> holding only an icon) say what they open
    document.querySelectorAll("nav summary, .bd-sidebar summary").forEach(function (s) {
      if (s.innerText.trim() || s.getAttribute("aria-label")) return;
      var li = s.closest("li");
      var link = li && li.querySelector(":scope > a");
      var what = link ? link.innerText.replace(/\s+/g, " ").trim() : "this section";
      s.setAttribute("aria-label", "Pages under " + what);
    });
    // the colour-mode button: its icons (with titles "Light", "Dark") are decoration
    document.querySelectorAll(".theme-switch-button > *").forEach(function (i) {
      i.setAttribute("aria-hidden", "true");
      i.removeAttribute("title");
    });
    // an animation's frame slider (matplotlib's HTML writer) has no label
    document.querySelectorAll(".animation input[type=range], input[id^=_anim_slider]").forEach(
      function (r) { if (!r.getAttribute("aria-label")) r.setAttribute("aria-label", "Animation frame"); });
  }

  /* The download menu offers the whole book as a PDF (made by `make pdf`, copied to the site's
     root), beside the page's source and the browser's print of this page. */
  function pdfLink() {
    var menu = document.querySelector(".dropdown-download-buttons ul.dropdown-menu");
    if (!menu || menu.querySelector(".lp-book-pdf")) return;
    var root = document.documentElement.dataset.content_root || "./";
    var li = document.createElement("li");
    li.innerHTML = '<a class="btn btn-sm dropdown-item lp-book-pdf" title="The whole book as one PDF">' +
      '<span class="btn__icon-container"><i class="fas fa-book"></i></span>' +
      '<span class="btn__text-container">book.pdf</span></a>';
    li.firstChild.href = root + "book.pdf";
    menu.insertBefore(li, menu.firstChild);
    var print = menu.querySelector(".btn-download-pdf-button .btn__text-container");
    if (print) print.textContent = "print page";
  }

  /* Printing shows everything: open collapsed solutions and hidden cells, then restore. */
  var opened = [];
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details:not([open])").forEach(function (d) {
      d.open = true; opened.push(d);
    });
  });
  window.addEventListener("afterprint", function () {
    opened.forEach(function (d) { d.open = false; });
    opened = [];
  });

  /* Search results: the snippets are cut from the pages' HTML, where formulas are TeX source;
     show them as plain text instead of raw \( ... \). */
  var SYMBOLS = {
    partial: "\u2202", nabla: "\u2207", sum: "\u2211", prod: "\u220f", int: "\u222b",
    top: "\u1d40", cdot: "\u00b7", times: "\u00d7", le: "\u2264", leq: "\u2264", ge: "\u2265",
    geq: "\u2265", ne: "\u2260", neq: "\u2260", approx: "\u2248", to: "\u2192", infty: "\u221e",
    lVert: "\u2016", rVert: "\u2016", langle: "\u27e8", rangle: "\u27e9", in: "\u2208",
    alpha: "\u03b1", beta: "\u03b2", gamma: "\u03b3", delta: "\u03b4", Delta: "\u0394",
    epsilon: "\u03b5", varepsilon: "\u03b5", zeta: "\u03b6", eta: "\u03b7", theta: "\u03b8",
    lambda: "\u03bb", mu: "\u03bc", xi: "\u03be", pi: "\u03c0", rho: "\u03c1", sigma: "\u03c3",
    tau: "\u03c4", phi: "\u03c6", Phi: "\u03a6", psi: "\u03c8", omega: "\u03c9", ldots: "\u2026",
    dots: "\u2026", cdots: "\u22ef", quad: " ", qquad: " ", left: "", right: "", big: "", Big: "",
    bigg: "", Bigg: "", bar: "", hat: "", dot: "", tilde: "", mathrm: "", mathbf: "", text: "",
    operatorname: ""
  };
  function plainTex(tex) {
    return tex
      .replace(/\\[,;:! ]/g, " ")
      .replace(/\\([a-zA-Z]+)\s*/g, function (m, name) {
        return Object.prototype.hasOwnProperty.call(SYMBOLS, name) ? SYMBOLS[name] : name;
      })
      .replace(/[{}]/g, "")
      .replace(/\^(?=\u1d40)/g, "")
      .replace(/\s+/g, " ")
      .trim();
  }
  function plainMath(text) {
    return text.replace(/\\\(([\s\S]*?)\\\)|\\\[([\s\S]*?)\\\]|\$\$([\s\S]*?)\$\$/g, function (m, a, b, c) {
      return plainTex(a || b || c || "");
    });
  }
  function searchSnippets() {
    if (typeof Search === "undefined" || !Search.htmlToText || Search.lpPlainMath) return;
    var original = Search.htmlToText;
    Search.htmlToText = function (html, anchor) {
      // not the print-only copy of the title and contents ("... Contents ..." in every snippet)
      var doc = new DOMParser().parseFromString(html, "text/html");
      doc.querySelectorAll(".onlyprint, #jb-print-docs-body, #jb-print-toc").forEach(function (e) {
        e.remove();
      });
      return plainMath(original.call(Search, doc.documentElement.outerHTML, anchor));
    };
    Search.lpPlainMath = true;
  }
  window.lagpropPlainMath = plainMath; // for the browser test

  function ready() {
    accessibleNames();
    solutionTitles();
    pdfLink();
    searchSnippets();
    markScrollers();
    // MathJax loads after this script: wait for it, then measure the typeset formulas
    var tries = 0;
    var poll = setInterval(function () {
      tries += 1;
      if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
        clearInterval(poll);
        MathJax.startup.promise.then(markScrollers);
      } else if (tries > 100) {
        clearInterval(poll);
      }
    }, 100);
    window.addEventListener("load", markScrollers);
    var timer = null;
    window.addEventListener("resize", function () {
      clearTimeout(timer); timer = setTimeout(markScrollers, 150);
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready);
  else ready();
  // search results appear after the index loads: patch as soon as searchtools is there
  searchSnippets();
  window.lagpropMarkScrollers = markScrollers;
})();

/* ---- Drivable figures (lagprop.plotting.slider_figure): a range slider shows one of the
   frames drawn when the chapter ran. Without this script the control stays hidden and the
   frame at the reference value shows. ------------------------------------------------------ */
(function () {
  "use strict";

  function drive(box) {
    var input = box.querySelector(".lp-drivable-control input[type=range]");
    var control = box.querySelector(".lp-drivable-control");
    var output = box.querySelector(".lp-drivable-control output");
    var frames = box.querySelectorAll(".lp-drivable-frames img");
    if (!input || !control || !frames.length || box.dataset.lpDriven) return;
    box.dataset.lpDriven = "1";
    function show() {
      var k = Math.max(0, Math.min(frames.length - 1, parseInt(input.value, 10) || 0));
      for (var i = 0; i < frames.length; i += 1) frames[i].hidden = i !== k;
      var text = frames[k].getAttribute("data-lp-text") || "";
      input.setAttribute("aria-valuetext", text);
      if (output) output.textContent = text;
    }
    input.addEventListener("input", show);
    input.addEventListener("change", show);
    control.hidden = false;
    show();
  }

  function all() {
    document.querySelectorAll(".lp-drivable").forEach(drive);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", all);
  else all();
  window.lagpropDrive = all;
})();
