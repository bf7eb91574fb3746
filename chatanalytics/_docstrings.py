"""Docstring text that several public objects share, written once and filled in where they say so.

An object's docstring names a shared fragment on a line of its own, ``{name}``, where the text belongs;
:func:`fill_docstring` replaces that line with the fragment, indented like it, when the object is
defined. ``help()``, ``inspect.getdoc`` and doctest then see the whole text.
"""

from __future__ import annotations

import re
import textwrap
from typing import TypeVar

__all__ = ["fill_docstring"]

_T = TypeVar("_T")


def fill_docstring(obj: _T, **fragments: str) -> _T:
    r"""Write each fragment where ``obj``'s docstring has a line ``{name}``, indented like that line.

    Parameters
    ----------
    obj : object
        A function or class; its ``__doc__`` is replaced.
    **fragments : str
        Name -> text (numpydoc lines, not indented; their relative indentation is kept).

    Returns
    -------
    object
        ``obj``.

    Examples
    --------
    >>> def f():
    ...     '''Summary.
    ...
    ...     {note}
    ...     '''
    >>> print(fill_docstring(f, note="First line.\n    Indented line.").__doc__)
    Summary.
    <BLANKLINE>
        First line.
            Indented line.
    <BLANKLINE>
    """
    doc = obj.__doc__
    if doc:
        for name, text in fragments.items():
            doc = _filled(doc, name, text)
        obj.__doc__ = doc
    return obj


def _filled(doc: str, name: str, text: str) -> str:
    """``doc`` with its lines ``{name}`` replaced by ``text``, indented like them."""
    line = re.compile(rf"^([ \t]*)\{{{re.escape(name)}\}}[ \t]*$", re.M)
    return line.sub(lambda m: textwrap.indent(text, m.group(1)), doc)
