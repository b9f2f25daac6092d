"""Build the Ridgeline Outfitters demo catalog files from catalog_data.py.

Run from the repository root:  python catalog/build_catalog.py
Writes next to this script: products.csv, price_list.xlsx, new_arrivals.jsonl, faq.md,
spec_sheets/*.pdf, pages/*.html, policies/*.docx. Deterministic: running it twice gives
byte-identical files (fixed timestamps in the DOCX/XLSX zips and in the PDFs).
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
# products.csv
# ---------------------------------------------------------------------------------------
CSV_HEADERS = [
    "Handle", "Title", "Body", "Vendor", "Product Category", "Type", "Tags", "Published",
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
    "Google Shopping / Custom Label 0", "Google Shopping / Custom Label 1", "Material", "Status",
    "URL",
]


def csv_price(p, i):
    if p["compare_at_price"] is not None:
        return "{:.2f} (sale)".format(p["price"])
    if p["price"] >= 1000:
        return fmt_price(p["price"])
    if i % 6 == 4:
        return "{:.2f} USD".format(p["price"])
    return fmt_price(p["price"])


def csv_row(p, i):
    first_sentence = p["description"].replace("\n", " ").split(". ")[0].rstrip(".") + "."
    tags = [p["subcategory"].lower(), p["category"].lower()]
    if p["brand"]:
        tags.append(p["brand"].lower())
    if p["stock"] == 0:
        tags.append("out-of-stock")
    if p["compare_at_price"] is not None:
        tags.append("sale")
    gender = ""
    if "Women's" in p["title"]:
        gender = "female"
    elif i % 4 == 2:
        gender = "unisex"
    kids = "Kids" in p["title"] or any("Kids" in s for s in p["sizes"])
    row = {
        "Handle": p["handle"],
        "Title": p["title"],
        "Body": p["description"],
        "Vendor": p["brand"],
        "Product Category": data.CATEGORY_PATHS[p["subcategory"]],
        "Type": p["subcategory"],
        "Tags": "" if i % 10 == 7 else ", ".join(tags),
        "Published": "" if i % 11 == 5 else "TRUE",
        "Option1 Name": "Color" if i % 6 == 5 else "Colour",
        "Option1 Value": " / ".join(p["colours"]),
        "Option2 Name": "Size" if p["sizes"] else "",
        "Option2 Value": " / ".join(p["sizes"]),
        "Variant SKU": p["sku"],
        "Variant Grams": str(p["weight_g"]),
        "Variant Inventory Tracker": "shopify" if i % 5 == 0 else "",
        "Variant Inventory Qty": str(p["stock"]),
        "Variant Inventory Policy": "deny" if i % 7 == 0 else "",
        "Variant Fulfillment Service": "manual" if i % 8 == 0 else "",
        "Variant Price": csv_price(p, i),
        "Variant Compare At Price": (fmt_price(p["compare_at_price"])
                                     if p["compare_at_price"] is not None else ""),
        "Variant Requires Shipping": "TRUE" if i % 3 == 0 else "",
        "Variant Taxable": "TRUE" if i % 4 == 0 else "",
        "Variant Barcode": "8{:011d}".format((i + 1) * 104729 % 10 ** 11) if i % 5 == 1 else "",
        "Image Src": ("" if i % 9 == 5 else
                      "{}/cdn/images/{}.jpg".format(data.SHOP_URL, p["handle"])),
        "Image Position": "1" if i % 9 != 5 and i % 2 == 0 else "",
        "Image Alt Text": "{} in {}".format(p["title"], p["colours"][0]) if i % 3 == 0 else "",
        "Gift Card": "FALSE" if i % 10 == 0 else "",
        "SEO Title": "{} | {}".format(p["title"], data.SHOP_NAME) if i % 4 == 1 else "",
        "SEO Description": first_sentence if i % 4 == 1 else "",
        "Google Shopping / Gender": gender,
        "Google Shopping / Age Group": "kids" if kids else "",
        "Google Shopping / Condition": "new" if i % 12 == 0 else "",
        "Included / United States": "TRUE" if i % 13 == 0 else "",
        "Google Shopping / Custom Label 0": "clearance" if p["compare_at_price"] is not None else "",
        "Variant Weight Unit": "g" if i % 3 == 1 else "",
        "Material": p["material"],
        "Status": "active",
        "URL": p["url"],
    }
    return [row.get(h, "") for h in CSV_HEADERS]


def build_csv():
    rows = products_in("products.csv")
    with open(_path("products.csv"), "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
        w.writerow(CSV_HEADERS)
        for i, p in enumerate(rows):
            w.writerow(csv_row(p, i))
    return len(rows)


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


def main():
    skus = [p["sku"] for p in data.PRODUCTS]
    assert len(skus) == len(set(skus)), "duplicate SKU"
    assert len(set(p["category"] for p in data.PRODUCTS)) >= 7
    for sku in data.SPEC_SHEET_SKUS:
        assert data.PRODUCTS_BY_SKU[sku]["file"] == "products.csv", sku
    counts = {
        "products.csv": build_csv(),
        "price_list.xlsx": build_xlsx(),
        "new_arrivals.jsonl": build_jsonl(),
        "spec_sheets/*.pdf": build_pdfs(),
        "pages/*.html": build_pages(),
        "policies/*.docx": build_docx(),
        "faq.md (questions)": build_faq(),
    }
    for k, v in counts.items():
        print("{:<22} {}".format(k, v))
    print("distinct SKUs          {}".format(len(skus)))


if __name__ == "__main__":
    main()
