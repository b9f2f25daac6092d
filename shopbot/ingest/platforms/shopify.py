"""Shopify product CSV export -> products with variants.

Rows sharing a Handle are one product. Its first row carries the product fields (Title,
Body (HTML), Vendor, Product Category, Type, Tags, Published, Status) and the option names
(Option1..3 Name); each further row is either another variant (option values and Variant
SKU / Price / Compare At Price / Inventory Qty / Grams / Barcode / Image) or only one more
product image (Image Src, Image Position). Shopify's newer export spells the same columns
"URL handle", "SKU", "Price", "Compare-at price", "Inventory quantity", "Product image URL"
...; both spellings are read.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from shopbot.ingest.fields import normalise_header, parse_price, parse_stock
from shopbot.ingest.platforms._shared import Row, category_path, flag, number, split_list, text
from shopbot.products import Product, Variant

NAME = "shopify"

# Normalised header spellings, classic export first, newer export second.
_HANDLE = ("handle", "urlhandle")
_BODY = ("bodyhtml", "body", "description")
_PUBLISHED = ("published", "publishedononlinestore")
_SKU = ("variantsku", "sku")
_PRICE = ("variantprice", "price")
_COMPARE = ("variantcompareatprice", "compareatprice")
_QTY = ("variantinventoryqty", "inventoryquantity", "inventoryqty")
_TRACKER = ("variantinventorytracker", "inventorytracker")
_GRAMS = ("variantgrams", "weightvaluegrams")
_BARCODE = ("variantbarcode", "barcode")
_VARIANT_IMAGE = ("variantimage", "variantimageurl")
_IMAGE = ("imagesrc", "productimageurl")
_IMAGE_POSITION = ("imageposition",)
_VARIANT_FIELDS = _SKU + _PRICE + _COMPARE + _QTY + _GRAMS + _BARCODE + _VARIANT_IMAGE

# "Material (product.metafields.custom.material)": a product attribute.
_METAFIELD = re.compile(r"^(.+?)\s*\(product\.metafields\.[^)]*\)\s*$")
# Columns Shopify itself writes (normalised): every other column is the shop's own
# (a "Material" or "URL" a clerk added), kept as an attribute of the product.
_URL = ("url", "producturl", "onlinestoreurl")
_SHOPIFY_COLUMNS = frozenset(
    _HANDLE + _BODY + _PUBLISHED + _SKU + _PRICE + _COMPARE + _QTY + _TRACKER + _GRAMS
    + _BARCODE + _VARIANT_IMAGE + _IMAGE + _IMAGE_POSITION + _URL
    + ("title", "vendor", "productcategory", "type", "tags", "status", "giftcard",
       "imagealttext", "variantweightunit", "weightunitforvariant", "varianttaxcode",
       "costperitem", "variantinventorypolicy", "continuesellingwhenoutofstock",
       "variantfulfillmentservice", "fulfillmentservice", "variantrequiresshipping",
       "requiresshipping", "varianttaxable", "chargetax", "seotitle", "seodescription",
       "option1name", "option1value", "option2name", "option2value", "option3name",
       "option3value", "option1linkedto", "option2linkedto", "option3linkedto")
)
_SHOPIFY_PREFIXES = ("googleshopping", "includedunited", "included", "priceinternational",
                     "priceunited", "compareatpriceunited", "compareatpriceinternational",
                     "variantimage", "seo")
# A product without options has one variant whose only option is Title = Default Title.
_DEFAULT_OPTION = ("title", "default title")


def matches(headers: Sequence[str]) -> bool:
    """A Shopify product export: a Handle column beside variant or option columns."""
    names = {normalise_header(h) for h in headers}
    if not names & set(_HANDLE):
        return False
    return bool(names & {"variantsku", "variantprice", "option1name", "bodyhtml"})


def read(rows: Iterable[Mapping[str, str]], default_currency: str) -> list[Product]:
    products: dict[str, _Draft] = {}
    last: _Draft | None = None
    for cells in rows:
        row = Row(cells)
        if row.blank():
            continue
        handle = row.get(*_HANDLE)
        if not handle:
            if last is None or row.get("title"):
                # A hand-made file without handles: each titled row is its own product.
                handle = _slug(row.get("title")) if row.get("title") else ""
                if not handle:
                    continue
            else:
                handle = last.handle  # continuation row with the key left blank
        draft = products.get(handle)
        if draft is None:
            draft = products[handle] = _Draft(handle)
        draft.add(row, default_currency)
        draft.add_columns(cells)
        last = draft
    return [draft.product() for draft in products.values()]


class _Draft:
    """A product being assembled from its rows."""

    def __init__(self, handle: str):
        self.handle = handle
        self.fields: dict[str, str] = {}
        self.option_names: dict[int, str] = {}
        self.images: list[tuple[float, int, str]] = []  # (position, order seen, url)
        self.variants: list[Variant] = []
        self.attributes: dict[str, str] = {}
        self.url = ""

    def add(self, row: Row, currency: str) -> None:
        for key, names in (
            ("title", ("title",)), ("vendor", ("vendor",)), ("category", ("productcategory",)),
            ("type", ("type",)), ("tags", ("tags",)), ("published", _PUBLISHED),
            ("status", ("status",)),
        ):
            if not self.fields.get(key):
                self.fields[key] = row.get(*names)
        if not self.fields.get("body"):
            self.fields["body"] = row.raw(*_BODY)
        for number_ in (1, 2, 3):
            name = row.get(f"option{number_}name")
            if name and number_ not in self.option_names:
                self.option_names[number_] = name
        image = row.get(*_IMAGE)
        if image:
            position = number(row.get(*_IMAGE_POSITION))
            order = len(self.images)
            self.images.append((position if position is not None else 1e9, order, image))
        if self._is_variant_row(row):
            self.variants.append(self._variant(row, currency))

    def add_columns(self, cells: Mapping[str, str]) -> None:
        """Product metafield columns ("Material (product.metafields.custom.material)") and
        columns the shop added itself ("Material", "URL"): attributes (the page address:
        the product's url), first non-empty value kept."""
        for header, value in cells.items():
            header = str(header or "").strip()
            match = _METAFIELD.match(header)
            if match:
                name = match.group(1).strip()
            else:
                key = normalise_header(header)
                if key in _URL:
                    self.url = self.url or text(str(value or ""))
                    continue
                if not key or key in _SHOPIFY_COLUMNS or key.startswith(_SHOPIFY_PREFIXES):
                    continue
                name = header
            if name not in self.attributes:
                value = text(str(value or ""), paragraphs=True)
                if value:
                    self.attributes[name] = value

    def _is_variant_row(self, row: Row) -> bool:
        if any(row.get(f"option{n}value") for n in (1, 2, 3)):
            return True
        # A row with only a Variant Image and no other variant field is still an image row.
        return any(row.get(name) for name in _VARIANT_FIELDS if name not in _VARIANT_IMAGE)

    def _variant(self, row: Row, currency: str) -> Variant:
        options: dict[str, str] = {}
        for number_ in (1, 2, 3):
            value = row.get(f"option{number_}value")
            name = self.option_names.get(number_) or row.get(f"option{number_}name")
            if not value or not name:
                continue
            if (name.lower(), value.lower()) == _DEFAULT_OPTION:
                continue
            options[name] = value
        price, price_currency = parse_price(row.raw(*_PRICE), currency)
        compare_at, _ = parse_price(row.raw(*_COMPARE), currency)
        quantity = parse_stock(row.raw(*_QTY))
        in_stock = None
        tracker_column = next((name for name in _TRACKER if row.has(name)), None)
        if tracker_column is not None and not row.get(tracker_column):
            # Shopify does not track this variant's inventory: it is always for sale, and
            # the exported quantity (usually 0) means nothing.
            quantity, in_stock = None, True
        return Variant(
            sku=row.get(*_SKU),
            options=options,
            price=price,
            currency=price_currency if price is not None else None,
            compare_at_price=compare_at,
            quantity=quantity,
            in_stock=in_stock,
            image=row.get(*_VARIANT_IMAGE),
            barcode=row.get(*_BARCODE).lstrip("'"),
            weight_grams=number(row.get(*_GRAMS)),
        )

    def product(self) -> Product:
        fields = self.fields
        status = (fields.get("status") or "active").lower()
        if status not in ("active", "draft", "archived"):
            status = "hidden"  # "unlisted" and the like: not offered in the catalog
        if status == "active" and flag(fields.get("published", "")) is False:
            status = "hidden"
        categories = []
        if fields.get("category"):
            categories.append(category_path(fields["category"]))
        product_type = fields.get("type", "")
        if product_type and not any(product_type in path.split(" > ") for path in categories):
            categories.append(product_type)
        names = [self.option_names[n] for n in sorted(self.option_names)]
        options = [name for name in names if name.lower() != _DEFAULT_OPTION[0]]
        images: list[str] = []
        for _, _, url in sorted(self.images):
            if url not in images:
                images.append(url)
        variants = self.variants or [Variant()]
        return Product(
            id=self.handle,
            title=fields.get("title") or self.handle,
            brand=fields.get("vendor", ""),
            categories=categories,
            description=text(fields.get("body", ""), paragraphs=True),
            url=self.url,
            images=images,
            status=status,
            attributes=dict(self.attributes),
            options=options,
            variants=variants,
            tags=split_list(fields.get("tags", "")),
            platform=NAME,
        )


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
