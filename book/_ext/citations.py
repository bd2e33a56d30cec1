"""Author-year citations, in the text and in the list of references.

In the text, ``{cite:t}`` reads "le Cun (1988)" and ``{cite:p}`` reads "(le Cun, 1988)": the
reference style ``author_year_round`` (round brackets). In the list, each entry is labelled the
same way, "le Cun 1988", and the list is sorted by author and year: the formatting style
``authoryear`` (pybtex's ``unsrt`` entries with author-year labels, a, b, ... when an author has
two works of one year). The year is the ``year`` field of ``references.bib``, so the text and
the list always agree.
"""

import codecs
import re
from dataclasses import dataclass, field

import latexcodec  # noqa: F401  (registers the "ulatex" codec; a dependency of pybtex)
import pybtex.plugin
import sphinxcontrib.bibtex.plugin
from pybtex.style.formatting.unsrt import Style as UnsrtStyle
from pybtex.style.labels import BaseLabelStyle
from sphinxcontrib.bibtex.style.referencing import BracketStyle
from sphinxcontrib.bibtex.style.referencing.author_year import AuthorYearReferenceStyle


def _plain(latex):
    text = codecs.decode(latex, "ulatex")
    return re.sub(r"[{}]", "", text)


def _surname(person):
    return _plain(" ".join(person.prelast_names + person.last_names))


def author_year_label(entry):
    """``le Cun 1988``, ``Bryson and Ho 1969``, ``Frandina et al. 2013``."""
    persons = entry.persons.get("author") or entry.persons.get("editor") or []
    names = [_surname(p) for p in persons]
    if not names:
        who = _plain(entry.fields.get("title", entry.key)).split(":")[0]
    elif len(names) == 1:
        who = names[0]
    elif len(names) == 2:
        who = f"{names[0]} and {names[1]}"
    else:
        who = f"{names[0]} et al."
    return f"{who} {entry.fields.get('year', 'n.d.')}"


class AuthorYearLabels(BaseLabelStyle):
    def format_labels(self, sorted_entries):
        labels = [author_year_label(e) for e in sorted_entries]
        counts = {lab: labels.count(lab) for lab in labels}
        seen = {}
        for lab in labels:
            if counts[lab] > 1:
                seen[lab] = seen.get(lab, 0) + 1
                yield lab + "abcdefghijklmnopqrstuvwxyz"[seen[lab] - 1]
            else:
                yield lab


class AuthorYearStyle(UnsrtStyle):
    default_label_style = AuthorYearLabels
    default_sorting_style = "author_year_title"


def _round():
    return BracketStyle(left="(", right=")")


@dataclass
class RoundAuthorYear(AuthorYearReferenceStyle):
    """Author-year references in round brackets: "le Cun (1988)", "(le Cun, 1988)"."""

    bracket_parenthetical: BracketStyle = field(default_factory=_round)
    bracket_textual: BracketStyle = field(default_factory=_round)
    bracket_author: BracketStyle = field(default_factory=_round)
    bracket_label: BracketStyle = field(default_factory=_round)
    bracket_year: BracketStyle = field(default_factory=_round)


pybtex.plugin.register_plugin("pybtex.style.formatting", "authoryear", AuthorYearStyle)
sphinxcontrib.bibtex.plugin.register_plugin("sphinxcontrib.bibtex.style.referencing",
                                            "author_year_round", RoundAuthorYear)


def setup(app):
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1.0"}
