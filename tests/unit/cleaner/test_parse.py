"""parse_html builds the tree trafilatura's own loader builds, faster."""

from __future__ import annotations

import lxml.html  # type: ignore[import-untyped,unused-ignore]
import pytest
import trafilatura
from lxml import etree  # type: ignore[import-untyped,unused-ignore]

from services.cleaner.htmlpage import parse_html

XHTML_DOCTYPE = (
    '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" '
    '"http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">'
)
PAGES = [
    "<html><head><title>T</title></head><body><p>Plain page.</p></body></html>",
    f"{XHTML_DOCTYPE}\n<html><body><p>XHTML doctype, a newline after it.</p></body></html>",
    f"{XHTML_DOCTYPE}<html><body><p>XHTML doctype, no newline.</p></body></html>",
    "<!doctype html><html lang=ar><body><p>نص عربي \U0001f600 emoji</p></body></html>",
    "<html><body><p>Control\x01 characters\x0b and \ufffe\uffff non-characters.</p></body></html>",
    "<html/>\n<body><p>A self-closing html tag.</p><p>Second.</p></body>",
    '<?xml version="1.0" encoding="utf-8"?><html><body><p>XML declaration.</p></body></html>',
    "<html><body><p>Tab\tnewline\ncarriage\rreturn kept.</p><!-- comment --></body></html>",
]


@pytest.mark.parametrize("page", PAGES)
def test_same_tree_as_trafilatura_load_html(page: str) -> None:
    expected = trafilatura.load_html(page)
    tree = parse_html(page)

    assert tree is not None
    assert expected is not None
    assert etree.tostring(tree, encoding="unicode") == etree.tostring(expected, encoding="unicode")


def test_characters_xml_forbids_are_removed() -> None:
    tree = parse_html("<html><body><p>a\x00b\x08c\x1fd\ufffee\uffffé</p></body></html>")

    assert tree is not None
    assert tree.findtext(".//p") == "abcdeé"


def test_fragment_and_empty_input_are_wrapped_in_a_page() -> None:
    tree = parse_html("<p>Only a paragraph.</p>")
    empty = parse_html("")

    assert tree is not None
    assert tree.findtext(".//p") == "Only a paragraph."
    assert empty is not None
    assert empty.text_content() == ""


def test_every_element_is_an_html_element_with_its_methods() -> None:
    # The parser's class lookup is chosen in C; form fields get no special classes,
    # but every element, form fields included, keeps lxml.html's methods.
    tree = parse_html(
        "<html><body><form><label>Name <input name=q></label><select></select></form>"
        "<p>Text <b>bold</b></p></body></html>"
    )

    assert tree is not None
    assert all(isinstance(element, lxml.html.HtmlElement) for element in tree.iter())
    assert tree.find(".//label").text_content() == "Name "
    tree.find(".//form").drop_tree()
    assert tree.find(".//p").text_content() == "Text bold"
