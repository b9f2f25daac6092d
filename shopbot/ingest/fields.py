"""Product fields from messy columns: header recognition, prices, stock, categories."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from shopbot import vocabulary

# Field -> header spellings we recognise, best first. Headers are compared after
# lower-casing and dropping everything but letters and digits ("Variant SKU" -> "variantsku").
HEADER_SYNONYMS: dict[str, tuple[str, ...]] = {
    "id": (
        "sku", "variantsku", "productsku", "itemno", "itemnumber", "itemid", "itemcode",
        "productid", "productcode", "articlenumber", "articleno", "partnumber", "partno",
        "mpn", "code", "id", "handle",
    ),
    "title": (
        "title", "producttitle", "productname", "name", "itemname", "itemtitle", "product",
        "item",
    ),
    "price": (
        "price", "variantprice", "unitprice", "saleprice", "retailprice", "ourprice",
        "sellingprice", "priceusd", "priceeur", "pricegbp", "listprice", "msrp", "rrp",
        "amount",
    ),
    "currency": ("currency", "currencycode", "pricecurrency", "curr"),
    "brand": ("brand", "vendor", "manufacturer", "make", "maker", "brandname"),
    "category": (
        "productcategory", "category", "categories", "categorypath", "department",
        "producttype", "type", "collection", "productgroup",
    ),
    "url": (
        "url", "producturl", "link", "productlink", "permalink", "pageurl", "weburl",
        "onlinestoreurl",
    ),
    "image": (
        "imagesrc", "image", "imageurl", "imagelink", "mainimage", "picture", "photo",
        "thumbnail",
    ),
    "stock": (
        "stock", "variantinventoryqty", "inventoryqty", "inventory", "quantity", "qty",
        "stockqty", "stocklevel", "instock", "onhand", "available", "availability",
    ),
    "description": (
        "description", "body", "bodyhtml", "productdescription", "longdescription",
        "details", "summary", "shortdescription", "desc",
    ),
}

# When no header matches exactly, a header containing one of these words still counts.
_HEADER_WORDS: dict[str, tuple[str, ...]] = {
    "id": ("sku",),
    "title": ("productname", "title", "name"),
    "price": ("price",),
    "description": ("description",),
    "stock": ("stock", "inventory"),
    "url": ("url",),
    "image": ("image",),
}
# ...unless it also contains one of these ("SEO Title", "Compare At Price", "Image Alt Text").
_HEADER_EXCLUDE = ("seo", "compare", "cost", "was", "alt", "meta", "google", "option")

# Currency symbols and codes: the shop's vocabulary (shopbot.vocabulary) owns them.
CURRENCY_SYMBOLS = vocabulary.CURRENCY_SYMBOLS
_ISO_CURRENCIES = vocabulary.ISO_CURRENCIES
_NUMBER = re.compile(r"\d[\d\s.,'’]*")
_CATEGORY_SPLIT = re.compile(r"\s*(?:\||>|/|»|›)\s*")


def normalise_header(header: Any) -> str:
    return re.sub(r"[^a-z0-9]", "", str(header or "").lower())


# Housekeeping columns of store exports (Shopify, WooCommerce): kept searchable, listed last.
_STORE_EXPORT_PREFIXES = (
    "handle", "tags", "published", "status", "giftcard", "variant", "image", "seo",
    "googleshopping", "included", "priceunited", "priceinternational", "compareatprice",
    "costperitem", "barcode",
)


def is_store_export_column(header: Any) -> bool:
    """Whether a column is store-export bookkeeping rather than a product attribute."""
    return normalise_header(header).startswith(_STORE_EXPORT_PREFIXES)


#: Columns and labels whose text says something about stock in words: a price list's
#: "Notes", a page's "Availability".
STOCK_NOTE_NAMES = ("notes", "note", "remarks", "remark", "comments", "comment", "availability",
                    "stockstatus", "stocknote", "stocknotes")


def is_stock_note(name: Any) -> bool:
    return normalise_header(name) in STOCK_NOTE_NAMES


def map_headers(headers: list[Any]) -> dict[str, int]:
    """Which column holds which product field: {field: column index}."""
    normalised = [normalise_header(h) for h in headers]
    mapping: dict[str, int] = {}
    taken: set[int] = set()
    for name, synonyms in HEADER_SYNONYMS.items():
        best: tuple[int, int] | None = None  # (rank, column)
        for col, norm in enumerate(normalised):
            if col in taken or not norm or norm not in synonyms:
                continue
            rank = synonyms.index(norm)
            if best is None or rank < best[0]:
                best = (rank, col)
        if best is not None:
            mapping[name] = best[1]
            taken.add(best[1])
    for name, words in _HEADER_WORDS.items():
        if name in mapping:
            continue
        for col, norm in enumerate(normalised):
            if col in taken or any(bad in norm for bad in _HEADER_EXCLUDE):
                continue
            if any(word in norm for word in words):
                mapping[name] = col
                taken.add(col)
                break
    return mapping


def is_product_table(mapping: dict[str, int]) -> bool:
    """A table is a product list when it names its products and says something about them."""
    has_name = "title" in mapping or "id" in mapping
    return has_name and len(mapping) >= 2


def parse_price(value: Any, default_currency: str) -> tuple[float | None, str | None]:
    """``"$1,299.00"`` -> (1299.0, "USD"); ``"129.00 (sale)"`` -> (129.0, default)."""
    if value is None or isinstance(value, bool):
        return None, None
    if isinstance(value, (int, float)):
        return (float(value), default_currency) if value == value else (None, None)
    text = str(value).strip()
    if not text:
        return None, None
    match = _NUMBER.search(text)
    if not match:
        return None, None
    amount = _parse_amount(match.group(0))
    if amount is None:
        return None, None
    return amount, detect_currency(text) or default_currency


def detect_currency(text: str) -> str | None:
    upper = text.upper()
    for code in re.findall(r"\b[A-Z]{3}\b", upper):
        if code in _ISO_CURRENCIES:
            return code
    for symbol in sorted(CURRENCY_SYMBOLS, key=len, reverse=True):
        if symbol in text:
            return CURRENCY_SYMBOLS[symbol]
    return None


def _parse_amount(raw: str) -> float | None:
    digits = re.sub(r"[\s'’]", "", raw).rstrip(".,")
    if not digits:
        return None
    last_dot, last_comma = digits.rfind("."), digits.rfind(",")
    if last_dot >= 0 and last_comma >= 0:
        # Whichever separator comes last is the decimal point: "1,299.00" / "1.299,00".
        decimal = "." if last_dot > last_comma else ","
        thousands = "," if decimal == "." else "."
        digits = digits.replace(thousands, "").replace(decimal, ".")
    elif last_comma >= 0:
        # "49,95" is a decimal comma; "1,299" and "12,000" are thousands.
        head, _, tail = digits.rpartition(",")
        digits = f"{head.replace(',', '')}.{tail}" if len(tail) != 3 else digits.replace(",", "")
    elif digits.count(".") > 1:
        digits = digits.replace(".", "")
    try:
        return float(digits)
    except ValueError:
        return None


def parse_stock(value: Any) -> int | None:
    """Units in stock: ``"12"``, ``12.0`` -> 12; ``"sold out"`` -> 0; unknown (or "in stock"
    without a count) -> None. The words are the vocabulary's (:func:`vocabulary.read_stock`)."""
    if value is None or isinstance(value, bool):
        return None if value is None else int(value)
    if isinstance(value, (int, float)):
        return int(value) if value == value else None
    statement = vocabulary.read_stock(str(value))
    return statement.quantity if statement else None


def split_category(value: str) -> list[str]:
    """``"Camping | Tents | Backpacking Tents"`` -> the path's parts."""
    return [part for part in _CATEGORY_SPLIT.split(value.strip()) if part]


def clean_cell(value: Any) -> str:
    """A cell as searchable text: HTML stripped, whitespace squeezed, floats tidied."""
    if value is None:
        return ""
    if isinstance(value, float):
        return "" if value != value else (str(int(value)) if value.is_integer() else str(value))
    if isinstance(value, (list, tuple)):
        return ", ".join(filter(None, (clean_cell(v) for v in value)))
    if isinstance(value, dict):
        return "; ".join(f"{k}: {clean_cell(v)}" for k, v in value.items() if clean_cell(v))
    text = str(value)
    if "<" in text and ">" in text:
        text = _strip_html(text)
    return re.sub(r"[ \t\r\f\v]+", " ", text).strip()


def _strip_html(text: str) -> str:
    from bs4 import BeautifulSoup

    return BeautifulSoup(text, "html.parser").get_text(" ")


@dataclass
class ProductRecord:
    """One product as found in a file, before it is embedded."""

    id: str
    title: str
    price: float | None = None
    currency: str | None = None
    brand: str = ""
    category: str = ""
    category_path: str = ""
    url: str = ""
    image: str = ""
    stock: int | None = None
    description: str = ""
    attributes: dict[str, str] = field(default_factory=dict)
    in_stock: bool | None = None  # said in words ("Out of stock", "In stock") beside or without a count
    availability: str = ""  # a key of vocabulary.AVAILABILITY_NOTES ("preorder", "discontinued")
    weight_grams: float | None = None  # from a weight spec with a unit ("1.9 kg")

    def with_notes(self) -> ProductRecord:
        """This record with what its notes say about the whole product ("Out of stock",
        "Discontinued - last stock", a price list's Notes column): a count in a stock column
        stays (an explicit number is the export's own fact); the note fills in what the
        count does not say. Notes about some sizes or colours ("sizes S–M sold out") are
        left to whoever knows the product's variants (shopbot.source_facts)."""
        for name, value in self.attributes.items():
            if not is_stock_note(name):
                continue
            for about, statement in vocabulary.stock_notes(value):
                if about:
                    continue
                if statement.availability and not self.availability:
                    self.availability = statement.availability
                if statement.available is not None and self.stock is None and self.in_stock is None:
                    self.in_stock = statement.available
                    self.stock = statement.quantity
        return self

    def to_product(self):
        """The typed product (:mod:`shopbot.products`): one default variant with this row's
        SKU, price and stock. Real attributes (material, weight, capacity) come before a
        store export's housekeeping columns, so they are inside what the embedding model
        and a prompt's excerpt read."""
        from shopbot.products import Product, Variant

        ordered = sorted(self.attributes.items(), key=lambda item: is_store_export_column(item[0]))
        return Product(
            id=self.id,
            title=self.title,
            brand=self.brand,
            categories=[self.category_path or self.category] if (self.category_path or self.category) else [],
            description=self.description,
            url=self.url,
            images=[self.image] if self.image else [],
            attributes=dict(ordered),
            variants=[Variant(sku=self.id, price=self.price, currency=self.currency,
                              quantity=self.stock, in_stock=self.in_stock,
                              availability=self.availability, weight_grams=self.weight_grams)],
        )


_OPTION_HEADER = re.compile(r"^option(\d+)(name|value)s?$")


def _option_pairs(headers: list[str], cells: list[str], used: set[int]) -> dict[str, str]:
    """Shopify-style "Option1 Name" = "Colour", "Option1 Value" = "Forest Green" columns
    become one attribute, "Colour: Forest Green". Marks the columns it consumed as used."""
    names: dict[str, int] = {}
    values: dict[str, int] = {}
    for col, header in enumerate(headers):
        match = _OPTION_HEADER.match(normalise_header(header))
        if match:
            (names if match.group(2) == "name" else values)[match.group(1)] = col
    pairs: dict[str, str] = {}
    for number, name_col in names.items():
        value_col = values.get(number)
        if value_col is None or value_col >= len(cells) or name_col >= len(cells):
            continue
        if cells[name_col] and cells[value_col]:
            pairs[cells[name_col]] = cells[value_col]
        used.update((name_col, value_col))
    return pairs


def record_from_row(
    headers: list[str], row: list[Any], mapping: dict[str, int], default_currency: str,
    fallback_id: str,
) -> ProductRecord | None:
    """A product from one table row; None for a row with nothing in it."""
    cells = [clean_cell(v) for v in row]
    if not any(cells):
        return None

    def cell(name: str) -> str:
        col = mapping.get(name)
        return cells[col] if col is not None and col < len(cells) else ""

    raw_price = row[mapping["price"]] if "price" in mapping and mapping["price"] < len(row) else None
    price, currency = parse_price(raw_price, default_currency)
    if cell("currency"):
        currency = cell("currency").upper()[:3]
    title = cell("title") or cell("id")
    if not title:
        return None
    path = split_category(cell("category"))
    used = set(mapping.values())
    attributes = _option_pairs(headers, cells, used)
    attributes.update(
        (clean_cell(headers[col]) or f"Column {col + 1}", value)
        for col, value in enumerate(cells)
        if value and col not in used and col < len(headers)
    )
    stock_col = mapping.get("stock")
    raw_stock = row[stock_col] if stock_col is not None and stock_col < len(row) else None
    stated = vocabulary.read_stock(clean_cell(raw_stock)) if isinstance(raw_stock, str) else None
    return ProductRecord(
        id=cell("id") or fallback_id,
        title=title,
        price=price,
        currency=currency if price is not None else None,
        brand=cell("brand"),
        category=path[-1] if path else "",
        category_path=" > ".join(path),
        url=cell("url"),
        image=cell("image"),
        stock=parse_stock(raw_stock),
        description=cell("description"),
        attributes=attributes,
        in_stock=stated.available if stated else None,
    ).with_notes()
