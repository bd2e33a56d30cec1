/* Backpropagation from Lagrangians: previews of what a reference points to (a theorem, a
   definition, an equation, a glossary term, a citation, a section), shown where the reader
   stands. The tips themselves are made at build time (book/_ext/previews.py, with sphinx-tippy:
   _static/tippy/<page>.*.js creates them when the page has loaded); this script sets how they
   behave, before they are created, and typesets their mathematics with the book's MathJax. */
(function () {
  "use strict";
  if (!window.tippy) return; // a page without tips (search, index)

  /* MathJax typesets a tip the first time it is shown, after the page's own typesetting. */
  function typeset(instance) {
    var box = instance.popper;
    if (box.dataset.lpTypeset || !box.querySelector(".math")) return;
    var mj = window.MathJax;
    if (!(mj && mj.startup && mj.startup.promise && mj.typesetPromise)) return;
    box.dataset.lpTypeset = "pending";
    MathJax.startup.promise = MathJax.startup.promise
      .then(function () { return MathJax.typesetPromise([box]); })
      .then(function () {
        box.dataset.lpTypeset = "done";
        scrollable(instance);
        if (instance.popperInstance) instance.popperInstance.update();
      })
      .catch(function (err) {
        box.dataset.lpTypeset = "failed";
        if (window.console) console.warn("a preview's mathematics was not typeset:", err);
      });
  }

  /* A long tip scrolls inside its box; keyboard users can scroll it too (WCAG 2.1.1). */
  function scrollable(instance) {
    var content = instance.popper.querySelector(".tippy-content");
    if (!content) return;
    if (content.scrollHeight > content.clientHeight + 1) content.setAttribute("tabindex", "0");
    else content.removeAttribute("tabindex");
  }

  tippy.setDefaultProps({
    // on the page, not inside the paragraph of the link: the tip has the page's own styles
    appendTo: function () { return document.body; },
    // the link is described by its tip (screen readers read it); it expands nothing
    aria: {content: "describedby", expanded: false},
    // a phone: a long press shows the tip, a tap follows the link
    touch: ["hold", 500],
    interactiveBorder: 6,
    // placed in the window, never past its edge: a tip makes no page scroll sideways, even
    // for a link inside a wide table that scrolls
    popperOptions: {
      strategy: "fixed",
      modifiers: [{name: "preventOverflow", options: {altAxis: true, tether: false, padding: 5}}]
    },
    onMount: function (instance) {
      scrollable(instance);
      typeset(instance);
    }
  });

  /* Escape closes any tip (WCAG 1.4.13: dismissible without moving pointer or focus). */
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") tippy.hideAll({duration: 0});
  });
})();
