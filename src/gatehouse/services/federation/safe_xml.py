"""Parsing XML from outside (SAML metadata, SAML responses) without the classic XML attacks: no DTDs, no entity
expansion (billion laughs), no external entities or network access (XXE), no processing instructions, bounded
size and depth."""

from __future__ import annotations

from lxml import etree

MAX_DEPTH = 64


class UnsafeXml(ValueError):
    """The document is not well-formed, or uses a feature we refuse (DTD, entities) or exceeds our limits."""


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                           huge_tree=False, remove_pis=True, remove_comments=True, collect_ids=False)


def parse(data: bytes) -> etree._Element:
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise UnsafeXml("DTDs and entity declarations are not accepted")
    try:
        root = etree.fromstring(data, parser=_parser())
    except etree.XMLSyntaxError as e:
        raise UnsafeXml(f"not well-formed XML: {e}") from None
    docinfo = root.getroottree().docinfo
    if docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise UnsafeXml("DTDs are not accepted")
    for node in root.iter():
        if isinstance(node, etree._Entity):
            raise UnsafeXml("entities are not accepted")
    if _depth(root) > MAX_DEPTH:
        raise UnsafeXml("the document is nested too deeply")
    return root


def _depth(root: etree._Element) -> int:
    deepest, stack = 0, [(root, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in node)
    return deepest
