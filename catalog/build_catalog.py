"""Build the Ridgeline Outfitters demo catalog files from catalog_data.py.

Run from the repository root:  python catalog/build_catalog.py [OUTPUT ...]
Writes next to this script: products.csv (a Shopify export, one row per variant),
woocommerce_products.csv (a WooCommerce export), price_list.xlsx, new_arrivals.jsonl, faq.md,
spec_sheets/*.pdf, pages/*.html, policies/*.docx; or only the outputs named
("products.csv woocommerce_products.csv", "spec_sheets", "pages", "policies", ...). Deterministic: running it twice gives
byte-identical files (fixed timestamps in the DOCX/XLSX zips and in the PDFs), and the two
CSVs are only rewritten when their content changes.
Needs openpyxl, python-docx and reportlab.
"""

import csv
import datetime
import html
import io
import json
import os
import re
import sys
import zipfile
from xml.sax.saxutils import escape as xml_escape

sys.dont_write_bytecode = True  # keep catalog/ free of __pycache__

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import catalog_data as data  # noqa: E402

FIXED_DT = datetime.datetime(2026, 1, 1, 0, 0, 0)
FIXED_ZIP_DT = (2026, 1, 1, 0, 0, 0)
FIXED_ISO = "2026-01-01T00:00:00Z"
LAST_UPDATED = "January 1, 2026"

P = data.POLICIES
money = data.money
fmt_price = data.fmt_price


def products_in(file):
    return [p for p in data.PRODUCTS if p["file"] == file]


def _path(*parts):
    return os.path.join(HERE, *parts)


def _clean_dir(sub, ext):
    d = _path(sub)
    os.makedirs(d, exist_ok=True)
    for name in sorted(os.listdir(d)):
        if name.endswith(ext):
            os.remove(os.path.join(d, name))


def _write_if_changed(path, blob):
    """Write ``blob`` unless the file already holds exactly it (its mtime stays)."""
    if os.path.exists(path):
        with open(path, "rb") as f:
            if f.read() == blob:
                return
    with open(path, "wb") as f:
        f.write(blob)


def normalize_zip(path):
    """Rewrite an OOXML zip with fixed entry timestamps and fixed core.xml dates."""
    with zipfile.ZipFile(path) as zin:
        entries = [(info.filename, zin.read(info.filename)) for info in zin.infolist()]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zout:
        for name, blob in entries:
            if name == "docProps/core.xml":
                text = blob.decode("utf-8")
                text = re.sub(r"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)",
                              r"\g<1>" + FIXED_ISO + r"\g<3>", text)
                blob = text.encode("utf-8")
            info = zipfile.ZipInfo(name, date_time=FIXED_ZIP_DT)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zout.writestr(info, blob)
    with open(path, "wb") as f:
        f.write(buf.getvalue())


# ---------------------------------------------------------------------------------------
# products.csv: a Shopify product export, one row per variant
# ---------------------------------------------------------------------------------------
# Shopify's classic export columns. A product's first row carries the product fields and
# the option names; its other rows (same Handle) carry only option values, variant fields
# and, while there are any left, one more product image each.
CSV_HEADERS = [
    "Handle", "Title", "Body (HTML)", "Vendor", "Product Category", "Type", "Tags", "Published",
    "Option1 Name", "Option1 Value", "Option2 Name", "Option2 Value", "Option3 Name",
    "Option3 Value", "Variant SKU", "Variant Grams", "Variant Inventory Tracker",
    "Variant Inventory Qty", "Variant Inventory Policy", "Variant Fulfillment Service",
    "Variant Price", "Variant Compare At Price", "Variant Requires Shipping", "Variant Taxable",
    "Variant Barcode", "Image Src", "Image Position", "Image Alt Text", "Gift Card", "SEO Title",
    "SEO Description", "Google Shopping / Gender", "Google Shopping / Age Group",
    "Google Shopping / MPN", "Google Shopping / Condition", "Variant Image",
    "Variant Weight Unit", "Variant Tax Code", "Cost per item", "Included / United States",
    "Price / United States", "Compare At Price / United States", "Included / International",
    "Price / International", "Compare At Price / International",
    "Google Shopping / Google Product Category", "Google Shopping / AdWords Grouping",
    "Google Shopping / AdWords Labels", "Google Shopping / Custom Product",
    "Google Shopping / Custom Label 0", "Google Shopping / Custom Label 1",
    "Material (product.metafields.custom.material)", "Status",
    "URL",  # not Shopify's: the shop adds its product page addresses before sharing the file
]


def _upc(number):
    """A 12-digit UPC-A with its check digit, from an 11-digit number."""
    digits = "{:011d}".format(number)
    odd = sum(int(d) for d in digits[0::2])
    even = sum(int(d) for d in digits[1::2])
    return digits + str((10 - (odd * 3 + even) % 10) % 10)


def _body_html(p, i):
    """Body (HTML) as shop staff left it: paragraphs for multi-line descriptions, a
    wrapping <p> on some, plain text on the rest."""
    lines = [s for s in p["description"].split("\n") if s]
    if len(lines) > 1:
        return "\n".join("<p>{}</p>".format(html.escape(s, quote=False)) for s in lines)
    if i % 4 == 3:
        return "<p>{}</p>".format(html.escape(p["description"], quote=False))
    return p["description"]


def _images(p, i):
    """Product images: one per colour (the variants show theirs), or one; none for a few."""
    if i % 9 == 5:
        return []
    base = "{}/cdn/images/{}".format(data.SHOP_URL, p["handle"])
    if len(p["colours"]) > 1:
        return ["{}-{}.jpg".format(base, data.slugify(c)) for c in p["colours"]]
    return [base + ".jpg"]


def csv_rows(p, i):
    """The rows of one product: the first with every product field, then one per variant."""
    first_sentence = p["description"].replace("\n", " ").split(". ")[0].rstrip(".") + "."
    on_sale = p["compare_at_price"] is not None
    tags = [p["subcategory"].lower(), p["category"].lower()]
    if p["brand"]:
        tags.append(p["brand"].lower())
    if p["stock"] == 0:
        tags.append("out-of-stock")
    if on_sale:
        tags.append("sale")
    gender = ""
    if "Women's" in p["title"]:
        gender = "female"
    elif i % 4 == 2:
        gender = "unisex"
    kids = "Kids" in p["title"] or any("Kids" in s for s in p["sizes"])
    product = {
        "Title": p["title"],
        "Body (HTML)": _body_html(p, i),
        "Vendor": p["brand"],
        "Product Category": data.CATEGORY_PATHS[p["subcategory"]],
        "Type": p["subcategory"],
        "Tags": "" if i % 10 == 7 else ", ".join(tags),
        "Published": ("FALSE" if p["status"] == "draft" else "" if i % 11 == 5 else "TRUE"),
        "Gift Card": "FALSE",
        "SEO Title": "{} | {}".format(p["title"], data.SHOP_NAME) if i % 4 == 1 else "",
        "SEO Description": first_sentence if i % 4 == 1 else "",
        "Google Shopping / Gender": gender,
        "Google Shopping / Age Group": "kids" if kids else "",
        "Google Shopping / Condition": "new" if i % 12 == 0 else "",
        "Included / United States": "TRUE" if i % 13 == 0 else "",
        "Google Shopping / Custom Label 0": "clearance" if on_sale else "",
        "Material (product.metafields.custom.material)": p["material"],
        "Status": p["status"],
        "URL": p["url"],
    }
    images = _images(p, i)
    colour_name = p["options"][0]
    # Some staff copy the price into Compare At Price on products that are not on sale.
    compare_is_price = not on_sale and i % 9 == 2
    rows = []
    for k, v in enumerate(p["variants"]):
        row = dict(product) if k == 0 else {}
        row["Handle"] = p["handle"]
        for n, name in enumerate(p["options"], start=1):
            if k == 0:
                row["Option{} Name".format(n)] = name
            row["Option{} Value".format(n)] = v["options"][name]
        compare = v["compare_at_price"]
        if compare is None and compare_is_price:
            compare = v["price"]
        row.update({
            "Variant SKU": v["sku"],
            "Variant Grams": str(v["grams"]),
            "Variant Inventory Tracker": "shopify",
            "Variant Inventory Qty": str(v["stock"]),
            "Variant Inventory Policy": "deny",
            "Variant Fulfillment Service": "manual",
            "Variant Price": "{:.2f}".format(v["price"]),
            "Variant Compare At Price": "" if compare is None else "{:.2f}".format(compare),
            "Variant Requires Shipping": "TRUE",
            "Variant Taxable": "TRUE",
            "Variant Barcode": _upc(84210000000 + i * 100 + k) if i % 5 == 1 else "",
            "Variant Weight Unit": "kg" if v["grams"] >= 5000 else "g",
        })
        if images and len(p["colours"]) > 1:
            row["Variant Image"] = images[p["colours"].index(v["options"][colour_name])]
        if k < len(images):
            row["Image Src"] = images[k]
            row["Image Position"] = str(k + 1)
            colour = p["colours"][k] if len(p["colours"]) > 1 else p["colours"][0]
            row["Image Alt Text"] = "{} in {}".format(p["title"], colour) if i % 3 == 0 else ""
        rows.append(row)
    for k in range(len(rows), len(images)):  # images left over: image-only rows
        rows.append({"Handle": p["handle"], "Image Src": images[k],
                     "Image Position": str(k + 1)})
    return [[row.get(h, "") for h in CSV_HEADERS] for row in rows]


def build_csv():
    products = products_in("products.csv")
    products += [p for p in data.HIDDEN_PRODUCTS if p["file"] == "products.csv"]
    rows = 0
    buf = io.StringIO(newline="")
    w = csv.writer(buf, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    w.writerow(CSV_HEADERS)
    for i, p in enumerate(products):
        for row in csv_rows(p, i):
            w.writerow(row)
            rows += 1
    _write_if_changed(_path("products.csv"), buf.getvalue().encode("utf-8"))
    return "{} products, {} rows".format(len(products), rows)


# ---------------------------------------------------------------------------------------
# woocommerce_products.csv: a WooCommerce product export (Products > Export)
# ---------------------------------------------------------------------------------------
WOO_HEADERS = [
    "ID", "Type", "SKU", "GTIN, UPC, EAN, or ISBN", "Name", "Published", "Is featured?",
    "Visibility in catalog", "Short description", "Description", "Date sale price starts",
    "Date sale price ends", "Tax status", "Tax class", "In stock?", "Stock",
    "Low stock amount", "Backorders allowed?", "Sold individually?", "Weight (kg)",
    "Length (cm)", "Width (cm)", "Height (cm)", "Allow customer reviews?", "Purchase note",
    "Sale price", "Regular price", "Categories", "Tags", "Shipping class", "Images",
    "Download limit", "Download expiry days", "Parent", "Grouped products", "Upsells",
    "Cross-sells", "External URL", "Button text", "Position", "Brands",
]
WOO_ATTRIBUTE_FIELDS = ["name", "value(s)", "visible", "global", "default"]
WOO_UPLOADS = "{}/wp-content/uploads/2026/11".format(data.SHOP_URL)


def _woo_list(values):
    """A WooCommerce list cell: comma-separated, commas inside an item escaped."""
    return ", ".join(str(v).replace(",", "\\,") for v in values)


def _woo_html(sentences):
    """WooCommerce writes a description's line breaks as a literal \\n."""
    return "\\n".join("<p>{}</p>".format(html.escape(s, quote=False)) for s in sentences)


def _woo_prices(v):
    """(Sale price, Regular price, sale starts, sale ends) cells of a variant."""
    if v["compare_at_price"] is None:
        return "", "{:.2f}".format(v["price"]), "", ""
    day = "{:%Y-%m-%d}"
    return ("{:.2f}".format(v["price"]), "{:.2f}".format(v["compare_at_price"]),
            day.format(v["sale_starts"]) if v["sale_starts"] else "",
            day.format(v["sale_ends"]) if v["sale_ends"] else "")


def woo_rows(p):
    """(row, attributes) of one product and then of each of its variations; attributes
    are [(name, values, visible, global, default)]."""
    variable = bool(p["options"])
    attributes = [
        (name, list(dict.fromkeys(v["options"][name] for v in p["variants"])), "1", "1",
         p["variants"][0]["options"][name])
        for name in p["options"]
    ]
    if "Colour" not in p["options"] and p["colours"]:
        attributes.append(("Colour", p["colours"], "1", "0", ""))
    attributes += [(name, [value], "1", "0", "") for name, value in p["specs"].items()]
    slug = data.slugify(p["title"])
    in_stock_variants = [v for v in p["variants"] if v["stock"] > 0]
    row = {
        "ID": str(p["woo_id"]),
        "Type": "variable" if variable else "simple",
        "SKU": p["sku"],
        "Name": p["title"],
        "Published": "1",
        "Is featured?": "0",
        "Visibility in catalog": "hidden" if p["status"] == "hidden" else "visible",
        "Short description": p["short_description"],
        "Description": _woo_html(_sentences(p["description"])),
        "Tax status": "taxable",
        "In stock?": "1" if in_stock_variants else "0",
        "Backorders allowed?": "0",
        "Sold individually?": "0",
        "Weight (kg)": "{:g}".format(p["weight_g"] / 1000),
        "Allow customer reviews?": "1",
        "Categories": p["woo_category"],
        "Tags": _woo_list([t.lower() for t in (p["subcategory"], p["brand"]) if t]),
        "Images": "{}/{}.jpg".format(WOO_UPLOADS, slug),
        "Position": "0",
        "Brands": p["brand"],
    }
    if not variable:
        v = p["variants"][0]
        row["Stock"] = str(v["stock"])
        (row["Sale price"], row["Regular price"], row["Date sale price starts"],
         row["Date sale price ends"]) = _woo_prices(v)
    rows = [(row, attributes)]
    for k, v in enumerate(p["variants"] if variable else []):
        label = ", ".join(v["options"][name] for name in p["options"])
        child = {
            "ID": str(p["woo_id"] + k + 1),
            "Type": "variation",
            "SKU": v["sku"],
            "Name": "{} - {}".format(p["title"], label),
            "Published": "1",
            "Is featured?": "0",
            "Visibility in catalog": "visible",
            "Tax status": "taxable",
            "Tax class": "parent",
            "In stock?": "1" if v["stock"] > 0 else "0",
            "Stock": str(v["stock"]),
            "Backorders allowed?": "0",
            "Sold individually?": "0",
            "Weight (kg)": "{:g}".format(v["grams"] / 1000),
            "Allow customer reviews?": "0",
            "Parent": "id:{}".format(p["woo_id"]),
            "Position": str(k + 1),
        }
        (child["Sale price"], child["Regular price"], child["Date sale price starts"],
         child["Date sale price ends"]) = _woo_prices(v)
        rows.append((child, [(name, [v["options"][name]], "", "1", "") for name in p["options"]]))
    return rows


def _sentences(text):
    parts = [s.strip() for s in text.replace("\n", " ").split(". ") if s.strip()]
    return [s if s.endswith(".") else s + "." for s in parts]


def build_woo_csv():
    products = [p for p in data.PRODUCTS + data.HIDDEN_PRODUCTS if p["file"] == data.WOO_FILE]
    rows = [r for p in products for r in woo_rows(p)]
    width = max(len(attrs) for _, attrs in rows)
    headers = WOO_HEADERS + ["Attribute {} {}".format(n, f)
                             for n in range(1, width + 1) for f in WOO_ATTRIBUTE_FIELDS]
    buf = io.StringIO(newline="")
    w = csv.writer(buf, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
    w.writerow(headers)
    for row, attrs in rows:
        for n, (name, values, visible, is_global, default) in enumerate(attrs, start=1):
            row["Attribute {} name".format(n)] = name
            row["Attribute {} value(s)".format(n)] = _woo_list(values)
            row["Attribute {} visible".format(n)] = visible
            row["Attribute {} global".format(n)] = is_global
            row["Attribute {} default".format(n)] = default
        w.writerow([row.get(h, "") for h in headers])
    _write_if_changed(_path(data.WOO_FILE), buf.getvalue().encode("utf-8"))
    return "{} products, {} rows".format(len(products), len(rows))


# ---------------------------------------------------------------------------------------
# price_list.xlsx
# ---------------------------------------------------------------------------------------
XLSX_HEADERS = ["Item No.", "Product Name", "Brand", "Category", "Sizes", "Colours", "Unit Price",
                "Currency", "Stock", "Material", "Weight (g)", "Notes"]


def build_xlsx():
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    wb = Workbook()
    wb.properties.creator = data.SHOP_NAME
    wb.properties.lastModifiedBy = data.SHOP_NAME
    wb.properties.title = "{} price list 2026".format(data.SHOP_NAME)
    wb.properties.created = FIXED_DT
    wb.properties.modified = FIXED_DT
    sheets = [("Footwear", "Footwear"), ("Apparel", "Jackets & Apparel")]
    widths = [13, 42, 14, 18, 40, 34, 12, 10, 8, 60, 11, 34]
    count = 0
    for idx, (sheet_name, category) in enumerate(sheets):
        ws = wb.active if idx == 0 else wb.create_sheet()
        ws.title = sheet_name
        ws["A1"] = "{} \u2014 {} Price List 2026".format(data.SHOP_NAME, category)
        ws["A1"].font = Font(bold=True, size=14)
        # row 2 stays blank, headers in row 3
        for col, h in enumerate(XLSX_HEADERS, start=1):
            c = ws.cell(row=3, column=col, value=h)
            c.font = Font(bold=True, color="FFFFFF")
            c.fill = PatternFill("solid", fgColor="2F4F3E")
            c.alignment = Alignment(horizontal="center")
        r = 4
        for p in data.PRODUCTS:
            if p["file"] != "price_list.xlsx" or p["category"] != category:
                continue
            notes = p.get("notes", "")
            if p["stock"] == 0:
                notes = "; ".join(x for x in [notes, "Out of stock"] if x)
            values = [p["sku"], p["title"], p["brand"] or None, p["category"],
                      ", ".join(p["sizes"]), ", ".join(p["colours"]), p["price"], p["currency"],
                      p["stock"], p["material"], p["weight_g"], notes or None]
            for col, v in enumerate(values, start=1):
                c = ws.cell(row=r, column=col, value=v)
                if col == 7:
                    c.number_format = '"$"#,##0.00'
            r += 1
            count += 1
        for col, w in enumerate(widths, start=1):
            ws.column_dimensions[chr(64 + col)].width = w
        ws.freeze_panes = "A4"
        ws.auto_filter.ref = "A3:L{}".format(r - 1)
    path = _path("price_list.xlsx")
    wb.save(path)
    normalize_zip(path)
    return count


# ---------------------------------------------------------------------------------------
# new_arrivals.jsonl
# ---------------------------------------------------------------------------------------
def build_jsonl():
    rows = products_in("new_arrivals.jsonl")
    with open(_path("new_arrivals.jsonl"), "w", encoding="utf-8", newline="\n") as f:
        for p in rows:
            obj = {
                "sku": p["sku"], "name": p["title"], "brand": p["brand"],
                "category": p["category"], "subcategory": p["subcategory"],
                "price": p["price"], "currency": p["currency"], "stock": p["stock"],
                "url": p["url"], "description": p["description"], "colours": p["colours"],
                "sizes": p["sizes"], "material": p["material"], "weight_g": p["weight_g"],
                "specs": p["specs"],
            }
            f.write(json.dumps(obj, ensure_ascii=False) + "\n")
    return len(rows)


# ---------------------------------------------------------------------------------------
# spec_sheets/*.pdf
# ---------------------------------------------------------------------------------------
def _spec_rows(p):
    rows = [("SKU", p["sku"]), ("Price", fmt_price(p["price"]))]
    rows += list(p["specs"].items())
    rows.append(("Colours", ", ".join(p["colours"])))
    if p["sizes"]:
        rows.append(("Sizes", ", ".join(p["sizes"])))
    if "Weight" not in p["specs"] and not any("weight" in k.lower() for k in p["specs"]):
        rows.append(("Weight", "{} g".format(p["weight_g"])))
    return rows


def build_pdfs():
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import letter
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    class SpecSheetDoc(SimpleDocTemplate):
        """Draws the footer after the page content, so text extraction starts with the title."""

        def afterPage(self):
            c = self.canv
            c.saveState()
            c.setFont("Helvetica", 8)
            c.drawString(20 * mm, 12 * mm, "{} \u2014 Spec sheet {} \u2014 Page {}".format(
                data.SHOP_NAME, self._sku, self.page))
            c.drawRightString(letter[0] - 20 * mm, 12 * mm, data.SHOP_URL)
            c.restoreState()

    _clean_dir("spec_sheets", ".pdf")
    styles = getSampleStyleSheet()
    body = ParagraphStyle("body", parent=styles["BodyText"], fontSize=10, leading=14)
    meta = ParagraphStyle("meta", parent=body, fontSize=11, leading=15)
    cell = ParagraphStyle("cell", parent=body, fontSize=9.5, leading=12)
    h2 = ParagraphStyle("h2keep", parent=styles["Heading2"], keepWithNext=1)

    def para(text, style=body):
        return Paragraph(xml_escape(text), style)

    for sku, sheet in data.SPEC_SHEETS.items():
        p = data.PRODUCTS_BY_SKU[sku]

        story = [
            Paragraph(xml_escape(p["title"]), styles["Title"]),
            para("SKU: {}".format(p["sku"]), meta),
            para("Price: {}".format(fmt_price(p["price"])), meta),
            para("Brand: {}".format(p["brand"]), meta),
            para("Category: {}".format(p["category"]), meta),
            para("Product page: {}".format(p["url"]), meta),
            Spacer(1, 6),
            Paragraph("Overview", h2),
        ]
        story += [para(t) for t in sheet["overview"]]
        story.append(Paragraph("Specifications", h2))
        table = Table([[para(k, cell), para(v, cell)] for k, v in _spec_rows(p)],
                      colWidths=[55 * mm, 110 * mm])
        table.setStyle(TableStyle([
            ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
            ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#E8EFE9")),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ]))
        story.append(table)
        story.append(Paragraph("Materials", h2))
        story += [para(t) for t in sheet["materials"]]
        story.append(Paragraph("Care", h2))
        story += [para(t) for t in sheet["care"]]
        for heading, texts in sheet["extra_sections"]:
            story.append(Paragraph(xml_escape(heading), h2))
            story += [para(t) for t in texts]
        story.append(Spacer(1, 10))
        story.append(para("Prices in USD. {} {} \u2014 {}.".format(
            data.SHOP_NAME, data.SHOP_URL, "spec sheet last updated " + LAST_UPDATED), cell))
        doc = SpecSheetDoc(
            _path(sheet["file"]), pagesize=letter, invariant=1,
            title="{} \u2014 Spec Sheet".format(p["title"]), author=data.SHOP_NAME,
            subject="Product specification sheet {}".format(sku), creator=data.SHOP_NAME,
            leftMargin=20 * mm, rightMargin=20 * mm, topMargin=20 * mm, bottomMargin=22 * mm)
        doc._sku = sku
        doc.build(story)
    return len(data.SPEC_SHEETS)


# ---------------------------------------------------------------------------------------
# pages/*.html
# ---------------------------------------------------------------------------------------
PAGE_CSS = """body { font-family: Georgia, serif; max-width: 860px; margin: 2em auto; color: #222; }
header, footer { color: #555; font-size: 0.9em; }
.meta p { margin: 0.2em 0; }
.price { font-size: 1.3em; font-weight: bold; color: #2f4f3e; }
table { border-collapse: collapse; }
th, td { border: 1px solid #bbb; padding: 4px 10px; text-align: left; vertical-align: top; }"""


def build_pages():
    _clean_dir("pages", ".html")
    e = html.escape
    for sku, page in data.PAGES.items():
        p = data.PRODUCTS_BY_SKU[sku]
        stock = ("In stock ({} available)".format(p["stock"]) if p["stock"] > 0
                 else "Out of stock")
        paras = [s for s in p["description"].split("\n") if s] + page["paragraphs"]
        specs = list(p["specs"].items()) + [("Colours", ", ".join(p["colours"])),
                                            ("Material", p["material"])]
        if p["sizes"] and "Sizes" not in p["specs"]:
            specs.append(("Sizes", ", ".join(p["sizes"])))
        lines = [
            "<!DOCTYPE html>",
            '<html lang="en">',
            "<head>",
            '<meta charset="utf-8">',
            "<title>{} | {}</title>".format(e(p["title"]), e(data.SHOP_NAME)),
            '<meta name="description" content="{}">'.format(e(p["description"].replace("\n", " "))),
            '<link rel="canonical" href="{}">'.format(e(p["url"])),
            "<style>", PAGE_CSS, "</style>",
            "</head>",
            "<body>",
            "<header>",
            '<nav><a href="{0}/">{1}</a> &rsaquo; <a href="{0}/collections/{2}">{3}</a></nav>'.format(
                e(data.SHOP_URL), e(data.SHOP_NAME), data.slugify(p["category"]), e(p["category"])),
            "</header>",
            "<main>",
            '<article class="product" data-sku="{}">'.format(e(p["sku"])),
            "<h1>{}</h1>".format(e(p["title"])),
            '<div class="meta">',
            '<p class="sku">SKU: {}</p>'.format(e(p["sku"])),
            '<p class="price">Price: {}</p>'.format(e(fmt_price(p["price"]))),
            '<p class="brand">Brand: {}</p>'.format(e(p["brand"])),
            '<p class="category">Category: {}</p>'.format(e(p["category"])),
            '<p class="stock">Availability: {}</p>'.format(e(stock)),
            "</div>",
            "<h2>Description</h2>",
        ]
        lines += ["<p>{}</p>".format(e(t)) for t in paras]
        lines.append("<h2>Features</h2>")
        lines.append("<ul>")
        lines += ["<li>{}</li>".format(e(t)) for t in page["features"]]
        lines.append("</ul>")
        lines.append("<h2>Specifications</h2>")
        lines.append('<table class="specs">')
        lines.append("<tbody>")
        lines += ["<tr><th>{}</th><td>{}</td></tr>".format(e(k), e(v)) for k, v in specs]
        lines.append("</tbody>")
        lines.append("</table>")
        if p["spec_sheet"]:
            lines.append('<p>Download the <a href="../{}">spec sheet (PDF)</a>.</p>'.format(
                e(p["spec_sheet"])))
        lines += [
            "</article>",
            "</main>",
            "<footer>",
            "<p>Free standard shipping on orders over {}. Returns accepted within {} days. "
            "{}-year warranty on {}.</p>".format(
                money(P["free_shipping_threshold"]), P["return_days"],
                P["warranty_years"][p["category"]], e(p["category"].lower())),
            "<p>&copy; 2026 {}</p>".format(e(data.SHOP_NAME)),
            "</footer>",
            "</body>",
            "</html>",
        ]
        with open(_path(page["file"]), "w", encoding="utf-8", newline="\n") as f:
            f.write("\n".join(lines) + "\n")
    return len(data.PAGES)


# ---------------------------------------------------------------------------------------
# policies/*.docx
# ---------------------------------------------------------------------------------------
def _new_doc(title):
    import docx

    d = docx.Document()
    cp = d.core_properties
    cp.title = title
    cp.author = data.SHOP_NAME
    cp.last_modified_by = data.SHOP_NAME
    cp.created = FIXED_DT
    cp.modified = FIXED_DT
    cp.last_printed = FIXED_DT
    cp.revision = 1
    cp.comments = ""
    d.add_heading(title, level=1)
    d.add_paragraph("{} \u2014 last updated {}.".format(data.SHOP_NAME, LAST_UPDATED))
    return d


def _table(d, headers, rows):
    t = d.add_table(rows=1, cols=len(headers))
    t.style = "Table Grid"
    for i, h in enumerate(headers):
        cell = t.rows[0].cells[i]
        cell.text = ""
        run = cell.paragraphs[0].add_run(h)
        run.bold = True
    for r in rows:
        cells = t.add_row().cells
        for i, v in enumerate(r):
            cells[i].text = str(v)
    return t


def _save_doc(d, name):
    path = _path("policies", name)
    d.save(path)
    normalize_zip(path)


def _years(n):
    return "{} year{}".format(n, "" if n == 1 else "s")


def build_docx():
    _clean_dir("policies", ".docx")

    # shipping ---------------------------------------------------------------------------
    d = _new_doc("Shipping Policy")
    d.add_paragraph(
        "{} ships to the {} and to Canada. All prices are in US dollars (USD).".format(
            data.SHOP_NAME, P["ships_to"][0]))
    d.add_heading("Shipping rates and delivery times", level=2)
    _table(d, ["Method", "Cost", "Delivery time"], [
        ["Standard (contiguous US)", "{} \u2014 free on orders over {}".format(
            money(P["standard_shipping_cost"]), money(P["free_shipping_threshold"])),
         P["standard_shipping_days"]],
        ["Express (contiguous US)", money(P["express_shipping_cost"]), P["express_shipping_days"]],
        ["Standard to Alaska and Hawaii", money(P["alaska_hawaii_shipping_cost"]),
         P["alaska_hawaii_shipping_days"]],
        ["Standard to Canada", money(P["canada_shipping_cost"]), P["canada_shipping_days"]],
    ])
    d.add_heading("Free shipping", level=2)
    d.add_paragraph(
        "Standard shipping is free on orders over {} within the United States (excluding Alaska "
        "and Hawaii). The order total is counted after discounts and before tax. Express shipping "
        "always costs {}.".format(money(P["free_shipping_threshold"]),
                                  money(P["express_shipping_cost"])))
    d.add_heading("Order processing", level=2)
    d.add_paragraph(
        "Orders placed before {} on a business day (Monday to Friday, excluding US public "
        "holidays) ship the same day; later orders ship the next business day. Delivery times "
        "are counted from the day your order ships.".format(P["order_cutoff"]))
    d.add_paragraph(
        "You can change or cancel an order within {} hour of placing it by contacting {}.".format(
            P["order_change_window_hours"], P["support_email"]))
    d.add_heading("Tracking", level=2)
    d.add_paragraph(
        "When your order ships we e-mail you a tracking number and a link to follow your parcel.")
    d.add_heading("Canada", level=2)
    d.add_paragraph(
        "Orders to Canada ship by standard shipping only, cost {} and take {}. Import duties and "
        "taxes may be charged by the carrier on delivery and are paid by the recipient.".format(
            money(P["canada_shipping_cost"]), P["canada_shipping_days"]))
    d.add_heading("Damaged or lost parcels", level=2)
    d.add_paragraph(
        "If your parcel arrives damaged or does not arrive, contact us within {} days of the "
        "delivery date (or expected delivery date) at {} or {}. We will send a replacement or "
        "refund the order.".format(P["damage_report_days"], P["support_email"],
                                   P["support_phone"]))
    _save_doc(d, "shipping.docx")

    # returns ----------------------------------------------------------------------------
    d = _new_doc("Returns & Refunds Policy")
    d.add_heading("Return window", level=2)
    d.add_paragraph(
        "You can return most items within {} days of delivery for a refund or an exchange."
        .format(P["return_days"]))
    d.add_heading("Condition of returned items", level=2)
    d.add_paragraph(
        "Items must be {}. Tents and sleeping bags must not have been slept in; footwear must "
        "not have been worn outdoors.".format(P["return_condition"]))
    d.add_heading("How to start a return", level=2)
    d.add_paragraph(
        "E-mail {} with your order number, or use the returns page in your account. We send a "
        "prepaid return label; {} is deducted from your refund for the label. You may also ship "
        "the return yourself at your own cost.".format(P["support_email"],
                                                       money(P["return_label_fee"])))
    d.add_heading("Refunds", level=2)
    d.add_paragraph(
        "Refunds are issued to your original payment method within {} after we receive and "
        "inspect your return. Original shipping charges are not refunded, except when the item "
        "was faulty or we sent the wrong item.".format(P["refund_days"]))
    d.add_heading("Exchanges", level=2)
    d.add_paragraph(
        "Exchanges for a different size or colour are free: we cover the return label and the "
        "shipping of the replacement. Exchanges must also be requested within {} days of "
        "delivery.".format(P["return_days"]))
    d.add_heading("Non-returnable items", level=2)
    for item in P["non_returnable"]:
        d.add_paragraph(item[0].upper() + item[1:], style="List Bullet")
    _save_doc(d, "returns.docx")

    # warranty ---------------------------------------------------------------------------
    d = _new_doc("Warranty Policy")
    d.add_paragraph(
        "Every product we sell is covered against defects in materials and workmanship for the "
        "period below, counted from the date of delivery. This warranty is in addition to your "
        "{}-day return right.".format(P["return_days"]))
    d.add_heading("Warranty periods by category", level=2)
    _table(d, ["Category", "Warranty period"],
           [[cat, _years(y)] for cat, y in P["warranty_years"].items()])
    d.add_heading("What the warranty covers", level=2)
    d.add_paragraph(
        "Manufacturing defects such as failed seams, delaminating waterproof coatings, broken "
        "zips, faulty buckles, defective stove valves and electronics that stop working under "
        "normal use.")
    d.add_heading("What is not covered", level=2)
    d.add_paragraph(
        "Normal wear and tear (for example worn outsoles or faded fabric), damage from misuse, "
        "accidents, animals or fire, improper care or storage, and products modified or "
        "repaired by someone else.")
    d.add_heading("How to make a warranty claim", level=2)
    d.add_paragraph(
        "E-mail {} with your order number, a description of the problem and photos. We assess "
        "claims within {} business days and will repair the item, replace it, or give you store "
        "credit for its purchase price.".format(P["support_email"], P["warranty_claim_days"]))
    _save_doc(d, "warranty.docx")

    # sizing -----------------------------------------------------------------------------
    d = _new_doc("Sizing Guide")
    d.add_paragraph(
        "Use these charts to choose a size. If you are between sizes, choose the larger size. "
        "Exchanges for a different size are free within {} days.".format(P["return_days"]))
    d.add_heading("Boots and shoes", level=2)
    d.add_paragraph(
        "Stand on a sheet of paper and mark your heel and your longest toe; the distance is "
        "your foot length. Measure both feet in the afternoon and use the longer one.")
    _table(d, ["EU", "US Men", "US Women", "UK", "Foot length (cm)"],
           [[data.fmt_num(v) for v in row] for row in P["boot_size_chart"]])
    d.add_heading("Jackets and tops", level=2)
    d.add_paragraph("Measure around the fullest part of your chest, under the arms.")
    _table(d, ["Size", "Unisex / men's chest (cm)", "Women's chest (cm)"],
           [[s, "{}\u2013{}".format(*m), "{}\u2013{}".format(*w) if w else "\u2014"]
            for s, m, w in P["jacket_size_chart"]])
    d.add_heading("Pants", level=2)
    _table(d, ["Size", "Waist (cm)"],
           [[s, "{}\u2013{}".format(*w)] for s, w in P["pants_waist_chart"]])
    d.add_heading("Sleeping bags", level=2)
    _table(d, ["Bag size", "Fits people up to (cm)"],
           [[s, str(v)] for s, v in P["sleeping_bag_lengths"].items()])
    d.add_heading("Backpacks", level=2)
    d.add_paragraph(
        "Measure your torso from the bony bump at the base of your neck (C7 vertebra) down to "
        "the top of your hip bones.")
    _table(d, ["Pack size", "Torso length (cm)"],
           [[s, "{}\u2013{}".format(*v)] for s, v in P["backpack_torso_cm"].items()])
    _save_doc(d, "sizing.docx")
    return 4


# ---------------------------------------------------------------------------------------
# faq.md
# ---------------------------------------------------------------------------------------
def build_faq():
    lines = ["# {} FAQ".format(data.SHOP_NAME), "",
             "Answers to the questions our customers ask most. Prices are in US dollars (USD). "
             "Still stuck? E-mail {} or call {}.".format(P["support_email"], P["support_phone"])]
    section = None
    for sec, q, a in data.FAQ:
        if sec != section:
            lines += ["", "## {}".format(sec)]
            section = sec
        lines += ["", "### {}".format(q), "", a]
    with open(_path("faq.md"), "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(lines) + "\n")
    return len(data.FAQ)


BUILDERS = {
    "products.csv": build_csv,
    "woocommerce_products.csv": build_woo_csv,
    "price_list.xlsx": build_xlsx,
    "new_arrivals.jsonl": build_jsonl,
    "spec_sheets": build_pdfs,  # *.pdf
    "pages": build_pages,  # *.html
    "policies": build_docx,  # *.docx
    "faq.md": build_faq,  # questions
}


def check_data():
    skus = [p["sku"] for p in data.PRODUCTS + data.HIDDEN_PRODUCTS]
    assert len(skus) == len(set(skus)), "duplicate SKU"
    variant_skus = [v["sku"] for p in data.PRODUCTS + data.HIDDEN_PRODUCTS for v in p["variants"]]
    assert len(variant_skus) == len(set(variant_skus)), "duplicate variant SKU"
    assert len(set(p["category"] for p in data.PRODUCTS)) >= 7
    for sku in data.SPEC_SHEET_SKUS:
        assert data.PRODUCTS_BY_SKU[sku]["file"] == "products.csv", sku
    for p in data.PRODUCTS:
        assert sum(v["stock"] for v in p["variants"]) == p["stock"], p["sku"]
        assert min(data.price_on(v) for v in p["variants"]) == p["price"], p["sku"]
        if p["file"] == "products.csv":
            assert p["variants"][0]["sku"] == p["sku"], p["sku"]
            assert p["variants"][0]["price"] == p["price"], p["sku"]
    return skus


def main(argv):
    """Build every file, or only those named ("products.csv woocommerce_products.csv")."""
    skus = check_data()
    unknown = [name for name in argv if name not in BUILDERS]
    if unknown:
        sys.exit("unknown output {}; choose from: {}".format(
            ", ".join(unknown), ", ".join(BUILDERS)))
    for name, build in BUILDERS.items():
        if not argv or name in argv:
            print("{:<26} {}".format(name, build()))
    print("distinct SKUs              {}".format(len(skus)))


if __name__ == "__main__":
    main(sys.argv[1:])
