/* Search ranking of the book (Sphinx's html_search_scorer; page_style.py sets it): Sphinx's
   default weights, and a page or section whose title holds the query ranks above the API
   objects that merely share the word (so "costate" finds the costate chapter first). */
var Scorer = {
  score: function (result) {
    var docname = result[0], title = result[1] || "", descr = result[3] || "", score = result[4];
    var query = (new URLSearchParams(window.location.search).get("q") || "").toLowerCase().trim();
    var words = query.split(/\s+/).filter(function (w) { return w.length > 1; });
    var isObject = descr !== "";
    var inTitle = words.length > 0 && words.every(function (w) {
      return title.toLowerCase().indexOf(w) >= 0;
    });
    if (!isObject && inTitle) score += 30;
    if (!isObject && !/^book\/appendix\//.test(docname)) score += 2;  // chapters before appendices
    return score;
  },
  objNameMatch: 11,
  objPartialMatch: 6,
  objPrio: {0: 15, 1: 5, 2: -5},
  objPrioDefault: 0,
  title: 15,
  partialTitle: 7,
  term: 5,
  partialTerm: 2
};
