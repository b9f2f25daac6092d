"""Demo catalog data for "Ridgeline Outfitters", a fictional outdoor-gear shop.

Everything in here was written for shopbot; the shop, its brands and products are invented.
This module is plain data (built deterministically, no randomness, no I/O) so that tests
can ``import catalog.catalog_data`` and compare what the bot says against the facts.
``catalog/build_catalog.py`` renders the files in ``catalog/`` from it.

Main exports
------------
SHOP_NAME, SHOP_URL, CURRENCY, CATEGORIES, BRANDS
PRODUCTS         list of dicts, one per distinct SKU, keys:
                 sku, title, brand ("" = no brand), category (one of CATEGORIES), subcategory,
                 price (float, USD; for sale items the sale price), compare_at_price (float or
                 None), currency, stock (int, 0 = out of stock), colours (list), sizes (list,
                 empty where not relevant), material, weight_g (int), description (plain
                 text; some products.csv ones have a sentence per line, written there as
                 HTML paragraphs), url,
                 handle, specs (ordered dict label -> text), notes (price-list notes),
                 file (where the product lives: "products.csv", "price_list.xlsx",
                 "new_arrivals.jsonl", "woocommerce_products.csv" or "pages/<name>.html"),
                 page / spec_sheet (extra HTML page / PDF spec sheet path relative to
                 catalog/, or None), and options, variants, product_id, status (see
                 "Variants" below: per-variant SKU, options, price, compare-at price, sale
                 window and stock)
PRODUCTS_BY_SKU  dict sku -> product
PRODUCTS_BY_ID   dict product_id (the key the store files it under) -> product
WOO_PRODUCTS     the products of woocommerce_products.csv shoppers see (also in PRODUCTS)
HIDDEN_PRODUCTS  products shoppers must never see (a Shopify draft, a hidden WooCommerce
                 product); not in PRODUCTS
TODAY            the demo's today (sale windows are set around it); price_on(variant, day)
                 and sale_active(variant, day) say what a variant costs and whether it is
                 on sale on a day
SPEC_SHEET_SKUS  SKUs that have a PDF spec sheet in spec_sheets/ (all also in products.csv)
SPEC_SHEETS      sku -> extra text for the PDF spec sheets
PAGE_SKUS        SKUs that have an HTML page in pages/
HTML_ONLY_SKUS   SKUs that exist only on an HTML page
PAGES            sku -> extra text for the HTML pages
POLICIES         shop policy facts (shipping, returns, warranty, sizing)
FAQ              list of (section, question, answer) rendered into faq.md
"""

import datetime

SHOP_NAME = "Ridgeline Outfitters"
SHOP_URL = "https://ridgeline-outfitters.example"
CURRENCY = "USD"

CATEGORIES = [
    "Tents",
    "Sleeping Bags",
    "Backpacks",
    "Footwear",
    "Jackets & Apparel",
    "Camp Kitchen",
    "Lighting & Electronics",
    "Accessories",
]

# Fictional brands. "Ridgeline" is the shop's own label. A few products have no brand ("").
BRANDS = ["Ridgeline", "Kestrel Peak", "Northfall", "Talusworks", "Emberline"]

SKU_PREFIX = {
    "Tents": "TNT",
    "Sleeping Bags": "SLB",
    "Backpacks": "BPK",
    "Footwear": "FTW",
    "Jackets & Apparel": "JKT",
    "Camp Kitchen": "KIT",
    "Lighting & Electronics": "LGT",
    "Accessories": "ACC",
}

# Store-export style category paths (products.csv "Product Category"), keyed by subcategory.
CATEGORY_PATHS = {
    "Backpacking Tents": "Camping > Tents > Backpacking Tents",
    "Ultralight Tents": "Camping > Tents > Ultralight Tents",
    "Expedition Tents": "Camping > Tents > Expedition & 4-Season Tents",
    "Family Tents": "Camping > Tents > Family & Car Camping Tents",
    "Shelters & Tarps": "Camping > Tents > Shelters & Tarps",
    "Rooftop Tents": "Camping > Tents > Vehicle & Rooftop Tents",
    "Down Sleeping Bags": "Camping > Sleeping Bags > Down",
    "Synthetic Sleeping Bags": "Camping > Sleeping Bags > Synthetic",
    "Quilts": "Camping > Sleeping Bags > Quilts",
    "Sleeping Bag Liners": "Camping > Sleeping Bags > Liners",
    "Backpacking Packs": "Hiking > Backpacks > Backpacking Packs",
    "Daypacks": "Hiking > Backpacks > Daypacks",
    "Running & Hydration": "Hiking > Backpacks > Running & Hydration",
    "Duffels & Travel": "Travel > Bags > Duffels & Travel Packs",
    "Specialty Packs": "Hiking > Backpacks > Specialty Packs",
    "Stoves": "Camping > Camp Kitchen > Stoves",
    "Cookware": "Camping > Camp Kitchen > Cookware",
    "Coffee & Drinkware": "Camping > Camp Kitchen > Coffee & Drinkware",
    "Water Treatment": "Camping > Camp Kitchen > Water Treatment",
    "Coolers & Camp Furniture": "Camping > Camp Kitchen > Coolers & Furniture",
    "Headlamps": "Camping > Lighting & Electronics > Headlamps",
    "Lanterns & Flashlights": "Camping > Lighting & Electronics > Lanterns & Flashlights",
    "Power & Navigation": "Camping > Lighting & Electronics > Power & Navigation",
    "Trail Accessories": "Hiking > Accessories > Trail Accessories",
    "Camp Accessories": "Camping > Accessories > Camp Accessories",
    "Tent Accessories": "Camping > Tents > Tent Accessories",
    "Hiking Boots": "Footwear > Hiking Boots",
    "Trail Shoes": "Footwear > Trail Shoes",
    "Winter Boots": "Footwear > Winter Boots",
    "Sandals & Camp Shoes": "Footwear > Sandals & Camp Shoes",
    "Rain Jackets": "Apparel > Jackets > Rain Jackets",
    "Insulated Jackets": "Apparel > Jackets > Insulated Jackets",
    "Fleece & Softshell": "Apparel > Jackets > Fleece & Softshell",
    "Pants": "Apparel > Bottoms > Pants",
    "Base Layers & Tops": "Apparel > Tops > Base Layers & Tops",
    "Hats & Gloves": "Apparel > Accessories > Hats & Gloves",
}

_STOCK_CYCLE = [12, 34, 7, 0, 21, 45, 3, 18, 27, 9, 0, 15, 52, 6, 23, 31, 0, 11, 40, 4]


def slugify(text):
    out = []
    for ch in text.lower().replace("'", "").replace("\u2019", ""):
        out.append(ch if ch.isalnum() else "-")
    slug = "".join(out)
    while "--" in slug:
        slug = slug.replace("--", "-")
    return slug.strip("-")


def fmt_price(value):
    """349.0 -> '$349.00', 1299.0 -> '$1,299.00'"""
    return "${:,.2f}".format(value)


def fmt_temp(c):
    return "{} \u00b0C".format(c)


def _stock(cat_index, i):
    return _STOCK_CYCLE[(i * 3 + cat_index * 7) % len(_STOCK_CYCLE)]


def _make(category, num, title, brand, price, colours, weight_g, material, sentences,
          subcategory, specs, sizes=(), stock=None, file="products.csv"):
    sku = "RL-{}-{:03d}".format(SKU_PREFIX[category], num)
    handle = slugify(title)
    if stock is None:
        stock = _stock(CATEGORIES.index(category), num)
    return {
        "sku": sku,
        "title": title,
        "brand": brand,
        "category": category,
        "subcategory": subcategory,
        "price": float(price),
        "compare_at_price": None,
        "currency": CURRENCY,
        "stock": int(stock),
        "colours": list(colours),
        "sizes": list(sizes),
        "material": material,
        "weight_g": int(weight_g),
        "description": " ".join(sentences),
        "_sentences": list(sentences),
        "url": "{}/products/{}".format(SHOP_URL, handle),
        "handle": handle,
        "specs": dict(specs),
        "file": file,
        "page": None,
        "spec_sheet": None,
        "notes": "",
    }


# ---------------------------------------------------------------------------------------
# Tents (products.csv)
# (num, title, brand, price, colours, weight_g, persons, seasons, fly_hh_mm, floor_hh_mm,
#  packed size, floor area m2, peak height cm, doors, subcategory, material, tagline)
# ---------------------------------------------------------------------------------------
_M_BACKPACKING = ("20D ripstop nylon fly with silicone/PU coating, 30D nylon floor, "
                  "7001-T6 aluminium poles")
_M_UL = "10D silicone-coated ripstop nylon fly and floor, no-see-um mesh inner"
_M_EXPEDITION = ("40D ripstop nylon fly silicone-coated on both sides, 70D nylon floor, "
                 "9.5 mm aluminium poles")
_M_FAMILY = "150D polyester fly with PU coating, 210D polyethylene floor, steel and fibreglass poles"

_TENTS = [
    (1, "Alpine 2 Tent", "Ridgeline", 349.00, ["Forest Green", "Slate Grey"], 1650, 2, "3-season",
     3000, 5000, "46 x 15 cm", 2.9, 105, 2, "Backpacking Tents", _M_BACKPACKING,
     'A freestanding 2-person backpacking tent built for "pitch it in the rain" trips, with '
     "two doors, two vestibules and a colour-coded clip pitch."),
    (2, "Alpine 1 Tent", "Ridgeline", 279.00, ["Forest Green"], 1180, 1, "3-season",
     3000, 5000, "42 x 13 cm", 1.8, 97, 1, "Backpacking Tents", _M_BACKPACKING,
     "The solo version of our best-selling backpacking tent, with one side door and a roomy vestibule."),
    (3, "Alpine 3 Tent", "Ridgeline", 429.00, ["Forest Green", "Slate Grey"], 2140, 3, "3-season",
     3000, 5000, "50 x 17 cm", 3.9, 112, 2, "Backpacking Tents", _M_BACKPACKING,
     "Room for three hikers, or two plus a dog, in the same freestanding design as the Alpine 2."),
    (4, "Summit Expedition 4 Tent", "Kestrel Peak", 1299.00, ["Signal Orange"], 5900, 4, "4-season",
     5000, 10000, "62 x 24 cm", 5.6, 130, 2, "Expedition Tents", _M_EXPEDITION,
     "A geodesic dome for high camps and winter storms, with snow flaps, two entrances and a "
     "vestibule big enough to cook in."),
    (5, "Summit Expedition 2 Tent", "Kestrel Peak", 899.00, ["Signal Orange"], 3650, 2, "4-season",
     5000, 10000, "55 x 20 cm", 3.2, 112, 2, "Expedition Tents", _M_EXPEDITION,
     "The two-person version of our expedition dome, rated for sustained winds above the tree line."),
    (6, "Cirrus UL 1 Tent", "Northfall", 239.00, ["Sand"], 780, 1, "3-season",
     2000, 3000, "35 x 10 cm", 1.7, 115, 1, "Ultralight Tents", _M_UL,
     "A single-wall shelter that pitches with one trekking pole (not included), for thru-hikers "
     "counting every gram."),
    (7, "Cirrus UL 2 Tent", "Northfall", 299.00, ["Sand"], 990, 2, "3-season",
     2000, 3000, "38 x 11 cm", 2.6, 120, 2, "Ultralight Tents", _M_UL,
     "Two doors, two vestibules and under a kilogram, pitched with two trekking poles (not included)."),
    (8, "Basecamp 4 Family Tent", "Ridgeline", 419.00, ["Moss Green", "Light Grey"], 7200, 4, "3-season",
     3000, 4000, "68 x 28 cm", 7.4, 195, 2, "Family Tents", _M_FAMILY,
     "A stand-up family tent with two bedrooms, a central living area and a wide zip-open front porch."),
    (9, "Basecamp 6 Family Tent", "Ridgeline", 549.00, ["Moss Green", "Light Grey"], 9800, 6, "3-season",
     3000, 4000, "72 x 32 cm", 10.8, 205, 3, "Family Tents", _M_FAMILY,
     "Three bedrooms, blackout inner fabric and enough headroom to change standing up, for "
     "family weekends at the campground."),
    (10, "Meadow 8 Cabin Tent", "", 649.00, ["Tan", "Olive"], 14200, 8, "3-season",
     2000, 3000, "80 x 36 cm", 14.0, 215, 2,
     "Family Tents", "polyester-cotton canvas walls, 150D polyester fly, 210D polyethylene floor, steel poles",
     "A breathable cabin tent with near-vertical walls, two room dividers and an awning that "
     "doubles as a shade porch."),
    (11, "Driftwood 2 Dome Tent", "Talusworks", 149.00, ["Blue", "Grey"], 2600, 2, "3-season",
     1500, 3000, "52 x 16 cm", 3.0, 110, 1, "Family Tents",
     "68D polyester fly, 150D polyester floor, fibreglass poles",
     "An affordable dome for festival weekends and first camping trips, pitched in under ten minutes."),
    (12, "Driftwood 3 Dome Tent", "Talusworks", 189.00, ["Blue", "Grey"], 3400, 3, "3-season",
     1500, 3000, "56 x 18 cm", 4.2, 125, 1, "Family Tents",
     "68D polyester fly, 150D polyester floor, fibreglass poles",
     "The roomier Driftwood, with a porch for muddy boots and a lantern hook in the roof."),
    (13, "Talus Bivy Shelter", "Talusworks", 199.00, ["Olive"], 620, 1, "4-season",
     10000, 10000, "30 x 12 cm", 1.2, 60, 1, "Shelters & Tarps",
     "3-layer waterproof-breathable nylon upper, 40D nylon floor, single hoop pole",
     "A hooped bivy for alpine starts and minimalist overnights, with a bug-mesh window you can "
     "close completely."),
    (14, "Ridgeback 2 Tunnel Tent", "Northfall", 379.00, ["Forest Green"], 2300, 2, "3-season",
     4000, 6000, "48 x 16 cm", 3.1, 100, 1, "Backpacking Tents",
     "30D ripstop nylon fly, 40D nylon floor, 8.5 mm aluminium poles",
     "A tunnel tent that pitches fly-first, keeping the inner dry on wet days, with a huge rear vestibule."),
    (15, "Ridgeback 3 Tunnel Tent", "Northfall", 459.00, ["Forest Green"], 2850, 3, "3-season",
     4000, 6000, "52 x 18 cm", 4.1, 110, 2, "Backpacking Tents",
     "30D ripstop nylon fly, 40D nylon floor, 8.5 mm aluminium poles",
     "Three-person tunnel design with a door at each end, so nobody climbs over anybody at 3 a.m."),
    (16, "Nomad 3x3 Tarp", "Ridgeline", 89.00, ["Coyote Brown"], 540, 2, "3-season",
     3000, None, "25 x 12 cm", 9.0, None, 0, "Shelters & Tarps",
     "30D silicone-coated ripstop nylon, 16 reinforced tie-out points",
     "A 3 x 3 m square tarp that pitches as an A-frame, a lean-to or a storm shelter."),
    (17, "Canopy 10 Shade Shelter", "", 179.00, ["Sand"], 6100, 6, "summer",
     1500, None, "70 x 18 cm", 9.0, 210, 0, "Shelters & Tarps",
     "UPF 50+ polyester canopy, steel poles",
     "A 3 x 3 m sun and rain canopy for beach days, picnics and campground kitchens."),
    (18, "Polar Dome 3 Tent", "Kestrel Peak", 749.00, ["Yellow", "Charcoal"], 4300, 3, "4-season",
     5000, 10000, "58 x 22 cm", 4.3, 118, 2, "Expedition Tents", _M_EXPEDITION,
     "A four-pole winter dome with snow valances and internal guy lines for base camps above the snowline."),
    (19, "Hammock Haven Tent", "Talusworks", 169.00, ["Olive", "Black"], 1300, 1, "3-season",
     3000, None, "30 x 15 cm", None, None, 1, "Shelters & Tarps",
     "70D nylon hammock body, 20D polyester rainfly, no-see-um mesh, tree straps included",
     "A hammock, bug net and rainfly in one, for forests where flat ground is hard to find."),
    (20, "Coastline 2 Beach Shelter", "Talusworks", 79.00, ["Sky Blue"], 1400, 2, "summer",
     1000, None, "60 x 8 cm", 2.2, 120, 0, "Shelters & Tarps",
     "UPF 50+ polyester, sand pockets, fibreglass poles",
     "A pop-up beach shelter with sand pockets instead of pegs and a zip-down privacy wall."),
    (21, "Trailhead 1 Solo Tent", "", 129.00, ["Green"], 1900, 1, "3-season",
     2000, 3000, "40 x 14 cm", 1.9, 95, 1, "Backpacking Tents",
     "68D polyester fly, 150D polyester floor, aluminium poles",
     "A budget solo tent for scout trips and first overnights, with a side door and small vestibule."),
    (22, "Overland 3 Rooftop Tent", "Kestrel Peak", 1749.00, ["Charcoal"], 58000, 3, "4-season",
     3000, None, "140 x 125 x 30 cm", 3.4, 130, 3, "Rooftop Tents",
     "280 g/m2 poly-cotton canvas body, 420D polyester rainfly, aluminium base, 6 cm foam mattress",
     "A fold-out rooftop tent with a built-in mattress and telescoping ladder for crossbars rated "
     "at least 75 kg dynamic load."),
]

_TENT_EXTRA_SPECS = {
    1: {"Minimum trail weight": "1480 g (fly, inner, poles)",
        "Interior dimensions": "218 x 132 cm",
        "Vestibule area": "2 x 0.8 m\u00b2",
        "Pole structure": "Hubbed single pole, 1 cross pole",
        "Pegs included": "10 aluminium Y-pegs"},
    4: {"Minimum trail weight": "5350 g",
        "Interior dimensions": "240 x 230 cm",
        "Vestibule area": "1.6 m\u00b2 + 1.0 m\u00b2",
        "Pole structure": "5 poles, geodesic",
        "Pegs included": "18 aluminium V-pegs + 4 snow stakes"},
}


def _tent(row):
    (num, title, brand, price, colours, weight, persons, seasons, fly, floor, packed, area,
     peak, doors, sub, material, tagline) = row
    if doors == 0:
        who = "Covers {} {}".format(persons, "person" if persons == 1 else "people")
    else:
        who = "Sleeps {}".format(persons)
    water = "a {} mm hydrostatic head fly".format(fly)
    if floor is not None:
        water += " and a {} mm floor".format(floor)
    second = "{}; {}, with {}; packed weight {} g.".format(who, seasons, water, weight)
    specs = {
        "Capacity": "{} {}".format(persons, "person" if persons == 1 else "people"),
        "Seasons": seasons,
        "Packed weight": "{} g".format(weight),
        "Packed size": packed,
        "Fly waterproof rating": "{} mm hydrostatic head".format(fly),
    }
    if floor is not None:
        specs["Floor waterproof rating"] = "{} mm hydrostatic head".format(floor)
    if area is not None:
        specs["Covered area" if doors == 0 else "Floor area"] = "{} m\u00b2".format(area)
    if peak is not None:
        specs["Peak height"] = "{} cm".format(peak)
    if doors:
        specs["Doors"] = str(doors)
    specs.update(_TENT_EXTRA_SPECS.get(num, {}))
    stock = {1: 18, 4: 3}.get(num)
    return _make("Tents", num, title, brand, price, colours, weight, material, [tagline, second],
                 sub, specs, stock=stock)


# ---------------------------------------------------------------------------------------
# Sleeping bags (products.csv)
# (num, title, brand, price, colours, weight_g, fill, fill_g, comfort C, limit C, shape,
#  sizes, packed size, subcategory, shell material, tagline)
# ---------------------------------------------------------------------------------------
_BAGS = [
    (1, "Glacier -10 Down Bag", "Kestrel Peak", 529.00, ["Deep Red", "Black"], 1420,
     "800-fill-power goose down", 850, -10, -17, "mummy", ["Regular", "Long"], "22 x 38 cm",
     "Down Sleeping Bags", "20D ripstop nylon shell with DWR finish, 20D nylon taffeta lining",
     'A "shoulder season to early winter" mummy bag with a draft collar, a contoured hood and a '
     "full-length two-way zip."),
    (2, "Glacier -20 Expedition Bag", "Kestrel Peak", 689.00, ["Deep Red"], 1780,
     "800-fill-power goose down", 1100, -20, -28, "mummy", ["Regular", "Long"], "25 x 42 cm",
     "Down Sleeping Bags", "20D ripstop nylon shell with DWR finish, 20D nylon taffeta lining",
     "Built for winter camping and high-altitude treks, with a baffled draft tube along the zip."),
    (3, "Tundra -30 Expedition Bag", "Kestrel Peak", 949.00, ["Signal Orange"], 2250,
     "850-fill-power goose down", 1450, -30, -38, "mummy", ["Regular", "Long"], "28 x 46 cm",
     "Down Sleeping Bags", "30D waterproof-breathable nylon shell, 20D nylon lining",
     "Our warmest bag, for polar trips and 8,000 m expeditions, with an internal stash pocket for "
     "batteries and water bottles."),
    (4, "Ember 0 Down Bag", "Ridgeline", 289.00, ["Ember Orange", "Slate Grey"], 980,
     "650-fill-power duck down", 560, 0, -6, "mummy", ["Regular", "Long"], "19 x 34 cm",
     "Down Sleeping Bags", "30D nylon shell with DWR finish, polyester lining",
     "A do-it-all three-season down bag at a fair price, with a zip baffle and a drawcord hood."),
    (5, "Ember -5 Down Bag", "Ridgeline", 339.00, ["Ember Orange", "Slate Grey"], 1150,
     "650-fill-power duck down", 720, -5, -11, "mummy", ["Regular", "Long"], "21 x 36 cm",
     "Down Sleeping Bags", "30D nylon shell with DWR finish, polyester lining",
     "The warmer Ember, for frosty spring and autumn nights in the mountains."),
    (6, "Ember 5 Down Quilt", "Ridgeline", 249.00, ["Ember Orange"], 640,
     "650-fill-power duck down", 390, 5, -1, "quilt", ["Regular", "Wide"], "16 x 28 cm",
     "Quilts", "20D nylon shell and lining",
     "An open-back quilt with a sewn footbox and pad straps, for side sleepers who hate mummy bags."),
    (7, "Highland 7 Synthetic Bag", "Talusworks", 129.00, ["Forest Green"], 1350,
     "hollow-fibre polyester insulation", 800, 7, 2, "mummy", ["Regular", "Long"], "24 x 40 cm",
     "Synthetic Sleeping Bags", "polyester ripstop shell, polyester lining",
     "A synthetic summer and shoulder-season bag that stays warm when damp, so it's a safe pick for "
     "canoe trips."),
    (8, "Highland -2 Synthetic Bag", "Talusworks", 169.00, ["Forest Green"], 1890,
     "hollow-fibre polyester insulation", 1250, -2, -8, "mummy", ["Regular", "Long"], "27 x 44 cm",
     "Synthetic Sleeping Bags", "polyester ripstop shell, polyester lining",
     "Three-season warmth without down, with a neck baffle and a two-way zip."),
    (9, "Solstice 10 Summer Bag", "Northfall", 99.00, ["Sky Blue"], 820,
     "hollow-fibre polyester insulation", 420, 10, 5, "mummy", ["Regular"], "18 x 30 cm",
     "Synthetic Sleeping Bags", "20D nylon shell, polyester lining",
     "A light summer bag for hut trips and warm nights, with a full-length zip that opens into a blanket."),
    (10, "Campfire Double Rectangular Bag", "", 149.00, ["Navy", "Red Plaid"], 3400,
     "polyester fibre insulation", 2100, 8, 3, "rectangular double", ["Double"], "42 x 30 cm",
     "Synthetic Sleeping Bags", "polyester shell, brushed cotton-flannel lining",
     "A two-person rectangular bag with flannel lining, made for car camping and cabin weekends."),
    (11, "Campfire Single Rectangular Bag", "Talusworks", 79.00, ["Navy"], 1900,
     "polyester fibre insulation", 1150, 10, 4, "rectangular", ["Regular"], "35 x 25 cm",
     "Synthetic Sleeping Bags", "polyester shell, brushed cotton-flannel lining",
     "The single version of the Campfire, which zips together with a second one."),
    (12, "Cocoon Kids Sleeping Bag", "Ridgeline", 69.00, ["Lime", "Purple"], 900,
     "polyester fibre insulation", 480, 8, 3, "mummy", ["Kids (up to 150 cm)"], "20 x 32 cm",
     "Synthetic Sleeping Bags", "polyester shell and lining",
     "A kids' mummy bag with a glow-in-the-dark zip pull and a stuff sack that doubles as a pillow."),
    (13, "Nightjar UL Quilt", "Northfall", 379.00, ["Charcoal"], 520,
     "850-fill-power goose down", 330, 4, -2, "quilt", ["Regular", "Long"], "14 x 24 cm",
     "Quilts", "7D nylon shell and lining",
     "A 520 g ultralight quilt with a cinchable footbox, built for fast-and-light thru-hikes."),
    (14, "Aurora -5 Women's Down Bag", "Kestrel Peak", 399.00, ["Plum"], 1080,
     "750-fill-power goose down", 640, -5, -11, "mummy", ["Women's Regular", "Women's Long"],
     "20 x 35 cm", "Down Sleeping Bags", "20D ripstop nylon shell with DWR finish, nylon lining",
     "A women's-specific cut with extra down in the footbox and torso, where most women feel the cold first."),
    (15, "Aurora 2 Women's Synthetic Bag", "Talusworks", 149.00, ["Teal"], 1250,
     "hollow-fibre polyester insulation", 760, 2, -3, "mummy", ["Women's Regular"], "24 x 38 cm",
     "Synthetic Sleeping Bags", "polyester ripstop shell, polyester lining",
     "A women's three-season synthetic bag with a wider hip and a warmer footbox."),
    (16, "Drift 12 Travel Bag", "Northfall", 89.00, ["Grey"], 620,
     "polyester fibre insulation", 300, 12, 8, "rectangular", ["Regular"], "16 x 26 cm",
     "Synthetic Sleeping Bags", "polyester shell, polyester-cotton lining",
     "A compact rectangular bag for hostels, sleepovers and warm-weather trips."),
    (17, "Cirrus 0 Down Bag", "Northfall", 449.00, ["Sand"], 890,
     "850-fill-power goose down", 520, 0, -6, "mummy", ["Regular", "Long"], "17 x 30 cm",
     "Down Sleeping Bags", "10D nylon shell with DWR finish, 10D nylon lining",
     "A lightweight down mummy with a half-length zip, to match our Cirrus ultralight tents."),
    (18, "Basecamp 2 Synthetic Bag", "Ridgeline", 119.00, ["Moss Green"], 1600,
     "hollow-fibre polyester insulation", 1000, 2, -4, "mummy", ["Regular", "Long"], "26 x 40 cm",
     "Synthetic Sleeping Bags", "polyester ripstop shell, polyester lining",
     "A dependable three-season synthetic bag for campground trips and scout camps."),
    (19, "Featherline Silk Liner", "Ridgeline", 59.00, ["Natural"], 140,
     None, None, None, None, "mummy liner", ["Regular"], "10 x 8 cm",
     "Sleeping Bag Liners", "100% mulberry silk",
     "A silk mummy liner that adds about 2 \u00b0C of warmth and keeps your bag clean."),
    (20, "Thermal Fleece Liner", "", 39.00, ["Black"], 380,
     None, None, None, None, "rectangular liner", ["Regular"], "15 x 20 cm",
     "Sleeping Bag Liners", "100% polyester microfleece",
     "A soft microfleece liner that adds up to 5 \u00b0C of warmth, or works alone as a summer bag."),
]


def _bag(row):
    (num, title, brand, price, colours, weight, fill, fill_g, comfort, limit, shape, sizes, packed,
     sub, material, tagline) = row
    specs = {"Shape": shape}
    if comfort is not None:
        second = "{} bag with {} ({} g fill); comfort {}, limit {}; weighs {} g.".format(
            shape.capitalize(), fill, fill_g, fmt_temp(comfort), fmt_temp(limit), weight)
        specs.update({
            "Comfort temperature": fmt_temp(comfort),
            "Limit temperature": fmt_temp(limit),
            "Insulation": fill,
            "Fill weight": "{} g".format(fill_g),
        })
        full_material = "{}; insulation: {}".format(material, fill)
    else:
        second = "Weighs {} g.".format(weight)
        full_material = material
    specs["Total weight"] = "{} g".format(weight)
    specs["Packed size"] = packed
    if comfort is not None:
        specs["Fits"] = ", ".join(sizes)
    return _make("Sleeping Bags", num, title, brand, price, colours, weight, full_material,
                 [tagline, second], sub, specs, sizes=sizes, stock={1: 9}.get(num))


# ---------------------------------------------------------------------------------------
# Backpacks (products.csv)
# (num, title, brand, price, colours, weight_g, litres, sizes, carry system, subcategory,
#  material, tagline)
# ---------------------------------------------------------------------------------------
_PACKS = [
    (1, "Traverse 65 Backpack", "Ridgeline", 289.00, ["Forest Green", "Black"], 2050, 65,
     ["S/M", "M/L"], "aluminium internal frame with adjustable torso", "Backpacking Packs",
     "210D ripstop nylon body, 420D nylon base",
     "A multi-day trekking pack with an adjustable back system, a front stretch pocket and "
     "a removable lid that converts to a hip pack."),
    (2, "Traverse 55 Women's Backpack", "Ridgeline", 269.00, ["Plum", "Slate Grey"], 1890, 55,
     ["XS/S", "S/M"], "aluminium internal frame with adjustable torso", "Backpacking Packs",
     "210D ripstop nylon body, 420D nylon base",
     "The Traverse carry system with a women's-specific harness, a shorter torso range and a "
     "contoured hip belt."),
    (3, "Vertex 80 Expedition Pack", "Kestrel Peak", 429.00, ["Signal Orange", "Black"], 2650, 80,
     ["M", "L"], "twin aluminium stays and HDPE frame sheet", "Backpacking Packs",
     "500D nylon body with PU coating, 1000D nylon base",
     "A load-hauler for glacier expeditions, with ice-axe loops, crampon patch and a hip belt "
     "rated for 30 kg."),
    (4, "Cumulus 45 Ultralight Pack", "Northfall", 219.00, ["Sand"], 880, 45,
     ["S", "M", "L"], "removable foam back panel, frameless", "Backpacking Packs",
     "ultra-high-molecular-weight polyethylene ripstop laminate",
     "A frameless roll-top pack for thru-hikers, with big mesh pockets and shoulder-strap bottle holders."),
    (5, "Skyline 38 Backpack", "Ridgeline", 179.00, ["Ocean Blue", "Black"], 1350, 38,
     ["S/M", "M/L"], "ventilated trampoline mesh back, spring-steel frame", "Backpacking Packs",
     "100D recycled nylon body, 420D nylon base",
     "A weekend pack with a suspended mesh back panel that keeps your back cool on hot climbs."),
    (6, "Skyline 28 Daypack", "Ridgeline", 129.00, ["Ocean Blue", "Black"], 980, 28,
     ["One Size"], "ventilated trampoline mesh back, spring-steel frame", "Daypacks",
     "100D recycled nylon body, 420D nylon base",
     "Our most popular daypack, with a rain cover in the base pocket and a hydration sleeve."),
    (7, "Scree 22 Daypack", "Talusworks", 79.00, ["Red", "Black"], 640, 22,
     ["One Size"], "padded foam back panel", "Daypacks", "420D polyester",
     "A simple, tough daypack for hikes, school and everyday errands."),
    (8, "Commuter 24 Laptop Pack", "Talusworks", 99.00, ["Black", "Heather Grey"], 870, 24,
     ["One Size"], "padded foam back panel with luggage pass-through", "Daypacks",
     "600D recycled polyester with PU coating",
     'Padded sleeve fits laptops up to 15.6", and the clamshell opening makes airport security easy.'),
    (9, "Summit 18 Packable Daypack", "Kestrel Peak", 89.00, ["Signal Orange", "Charcoal"], 420, 18,
     ["One Size"], "frameless", "Daypacks", "70D ripstop nylon",
     "A summit-push pack that packs into its own lid pocket, with ice-axe loop and removable waist strap."),
    (10, "Hydra 12 Hydration Pack", "Northfall", 109.00, ["Teal", "Black"], 540, 12,
     ["One Size"], "mesh back panel", "Running & Hydration", "210D nylon ripstop",
     "A bike-and-hike hydration pack that comes with a 2 L reservoir and a tool roll pocket."),
    (11, "Trailrunner 8 Running Vest", "Northfall", 139.00, ["Lime", "Black"], 230, 8,
     ["S", "M", "L"], "stretch mesh vest harness", "Running & Hydration",
     "stretch mesh and 30D nylon",
     "A bounce-free running vest with two 500 ml soft flasks included and room for a shell and snacks."),
    (12, "Scout 20 Kids Backpack", "Ridgeline", 59.00, ["Lime", "Purple", "Ocean Blue"], 520, 20,
     ["Kids"], "padded foam back panel", "Daypacks", "420D polyester",
     "A kid-sized daypack with a reflective panel, a whistle on the chest strap and a name label inside."),
    (13, "Hauler 90 Duffel", "Talusworks", 159.00, ["Yellow", "Black"], 1600, 90,
     ["One Size"], "stowable backpack straps", "Duffels & Travel", "840D TPU-laminated nylon",
     "A weatherproof expedition duffel with stowable backpack straps and a big D-zip opening."),
    (14, "Hauler 60 Duffel", "Talusworks", 139.00, ["Yellow", "Black"], 1350, 60,
     ["One Size"], "stowable backpack straps", "Duffels & Travel", "840D TPU-laminated nylon",
     "The carry-on-friendly size of our Hauler duffel, for road trips and gear hauls."),
    (15, "Sling 6 Hip Pack", "", 39.00, ["Black", "Olive"], 210, 6,
     ["One Size"], "webbing waist belt", "Daypacks", "210D nylon",
     "A hip pack worn as a sling or belt bag, with a key clip and a hidden back pocket."),
    (16, "Voyager 40 Travel Pack", "Ridgeline", 199.00, ["Slate Grey", "Black"], 1480, 40,
     ["One Size"], "stowable harness and hip belt", "Duffels & Travel",
     "420D recycled nylon, 900D polyester base",
     "A 40 L carry-on travel pack that opens like a suitcase, with a lockable laptop compartment."),
    (17, "Trailcarry Child Carrier", "Kestrel Peak", 329.00, ["Charcoal"], 3100, 26,
     ["One Size"], "aluminium frame with kickstand", "Specialty Packs",
     "420D nylon, 600D polyester base",
     "A framed child carrier for kids up to 22 kg in total with a sun canopy, a 26 L storage "
     "compartment and a kickstand."),
    (18, "Cragline 35 Climbing Pack", "Kestrel Peak", 189.00, ["Signal Orange", "Black"], 1120, 35,
     ["S/M", "M/L"], "HDPE frame sheet", "Specialty Packs", "420D high-tenacity nylon",
     "A haul-friendly alpine climbing pack with rope strap, ice-tool attachments and a stripped-down mode."),
    (19, "Spoke 10 Bikepacking Saddle Bag", "Northfall", 119.00, ["Black"], 390, 10,
     ["One Size"], "seatpost mount", "Specialty Packs", "waterproof TPU-laminated nylon",
     "A roll-top saddle bag for bikepacking, with a stabilising valve that purges air after packing."),
    (20, "Heritage 30 Canvas Rucksack", "", 149.00, ["Olive", "Tan"], 1450, 30,
     ["One Size"], "padded leather-trimmed straps", "Daypacks",
     "waxed cotton canvas with vegetable-tanned leather trim",
     "A classic waxed-canvas rucksack with leather trim and buckles, for walks that end at the pub."),
    (21, "Glide 32 Ski Touring Pack", "Kestrel Peak", 199.00, ["Ice Blue", "Black"], 1250, 32,
     ["S/M", "M/L"], "HDPE frame sheet", "Specialty Packs", "210D ripstop nylon, 420D nylon base",
     "A ski touring pack with a dedicated avalanche-tool pocket, diagonal ski carry and back-panel access."),
    (22, "Pika 15 Packable Daypack", "Ridgeline", 39.00, ["Ocean Blue", "Lime"], 160, 15,
     ["One Size"], "frameless", "Daypacks", "30D silicone-coated ripstop nylon",
     "A featherweight daypack that stuffs into its own pocket, for city breaks and summit side trips."),
]

_PACK_EXTRA_SPECS = {
    1: {"Torso length range": "S/M 40-48 cm, M/L 46-54 cm",
        "Recommended max load": "25 kg",
        "Access": "Top lid, front U-zip, sleeping bag compartment",
        "Hydration": "Sleeve for reservoir up to 3 L",
        "Rain cover": "Included, stored in base pocket"},
}


def _pack(row):
    (num, title, brand, price, colours, weight, litres, sizes, carry, sub, material, tagline) = row
    second = "{} L capacity, {}; weighs {} g.".format(litres, carry, weight)
    specs = {"Capacity": "{} L".format(litres), "Carry system": carry,
             "Weight": "{} g".format(weight)}
    if sizes and sizes != ["One Size"]:
        specs["Sizes"] = ", ".join(sizes)
    specs.update(_PACK_EXTRA_SPECS.get(num, {}))
    return _make("Backpacks", num, title, brand, price, colours, weight, material, [tagline, second],
                 sub, specs, sizes=[] if sizes == ["One Size"] else sizes, stock={1: 14}.get(num))


# ---------------------------------------------------------------------------------------
# Camp kitchen, lighting & electronics, accessories (products.csv)
# (num, title, brand, price, colours, weight_g, subcategory, material, specs, tagline)
# The second description sentence is built from the first two specs and the weight.
# ---------------------------------------------------------------------------------------
_KITCHEN = [
    (1, "Blaze Canister Stove", "Ridgeline", 59.00, ["Silver"], 83, "Stoves",
     "titanium burner head, stainless steel pot supports",
     {"Heat output": "2800 W", "Boil time": "3 min 30 s for 1 L of water",
      "Fuel": "threaded isobutane-propane canister (not included)", "Piezo ignition": "Yes"},
     "A tiny folding canister stove with a wide burner head that simmers as well as it boils."),
    (2, "Blaze Pro Cook System", "Ridgeline", 149.00, ["Black", "Ember Orange"], 420, "Stoves",
     "hard-anodised aluminium pot with heat exchanger, neoprene cosy, polypropylene lid",
     {"Pot capacity": "1.0 L", "Heat output": "2200 W",
      "Boil time": "2 min 30 s for 0.5 L of water",
      "Fuel": "threaded isobutane-propane canister, 100 g or 230 g (not included)",
      "Piezo ignition": "Yes", "Packed size": "11 x 17 cm (stove and 100 g canister fit inside)"},
     "An integrated burner-and-pot system with a heat-exchanger base, so it boils fast and "
     "sips fuel, even in wind."),
    (3, "Twin Burner Camp Stove", "Talusworks", 139.00, ["Forest Green"], 5400, "Stoves",
     "powder-coated steel body, brass burners",
     {"Burners": "2 x 3000 W", "Fuel": "propane cylinder, 1 lb (not included)",
      "Cooking surface": "56 x 30 cm", "Wind guards": "3-sided, folding"},
     "A two-burner car-camping stove with wind guards and a lid that locks shut for transport."),
    (4, "Titan 750 Titanium Pot", "Northfall", 44.95, ["Titanium Grey"], 105, "Cookware",
     "commercially pure titanium",
     {"Capacity": "0.75 L", "Dimensions": "9.5 x 10.5 cm", "Lid": "Titanium, with strainer holes"},
     "A solo pot that fits a 100 g gas canister and a small stove inside."),
    (5, "Titan 450 Titanium Mug", "Northfall", 34.95, ["Titanium Grey"], 68, "Coffee & Drinkware",
     "commercially pure titanium",
     {"Capacity": "0.45 L", "Dimensions": "8 x 9.5 cm", "Handles": "Folding, silicone-sleeved"},
     "A single-wall titanium mug you can put straight on the stove."),
    (6, "Nest 4 Cook Set", "Ridgeline", 89.00, ["Silver"], 1150, "Cookware",
     "hard-anodised aluminium with non-stick frying pan",
     {"Pieces": "2 pots (2.5 L and 1.5 L), 20 cm frying pan, 4 bowls, 4 mugs",
      "Serves": "4 people", "Packed size": "22 x 14 cm"},
     "A nesting cook set for four that packs into its largest pot."),
    (7, "Ironside 25 cm Cast Iron Skillet", "", 49.00, ["Black"], 2700, "Cookware",
     "pre-seasoned cast iron",
     {"Diameter": "25 cm", "Depth": "5 cm", "Handle": "Cast-in, with helper handle"},
     "A pre-seasoned cast-iron skillet for campfires, grills and the stove at home."),
    (8, "Basecamp Percolator 1.2 L", "Talusworks", 39.95, ["Stainless"], 560, "Coffee & Drinkware",
     "18/8 stainless steel",
     {"Capacity": "1.2 L (8 cups)", "Compatible heat sources": "gas stove, campfire grate",
      "Viewing knob": "Heat-resistant glass"},
     "A classic stove-top percolator for slow campground mornings."),
    (9, "Trail Pour-Over Coffee Dripper", "Northfall", 24.95, ["Black"], 45, "Coffee & Drinkware",
     "food-grade silicone, stainless steel mesh filter",
     {"Brews": "1-2 cups", "Filter": "Reusable stainless mesh, no paper needed",
      "Collapsed height": "2 cm"},
     "A collapsible pour-over cone that flattens to 2 cm and needs no paper filters."),
    (10, "Titanium Long Spork", "Northfall", 12.95, ["Titanium Grey"], 18, "Cookware",
     "commercially pure titanium",
     {"Length": "21 cm", "Finish": "Polished bowl, bead-blasted handle"},
     "A long-handled spork that reaches the bottom of freeze-dried meal pouches."),
    (11, "Fireside 5-Piece Utensil Set", "Ridgeline", 29.95, ["Black"], 310, "Cookware",
     "nylon and stainless steel, canvas roll",
     {"Pieces": "spatula, ladle, tongs, serving spoon, paring knife",
      "Case": "Roll-up canvas with 6 slots"},
     "Everything you need to cook for a group, in a roll-up canvas case."),
    (12, "Collapsible Sink 10 L", "", 19.95, ["Blue"], 180, "Cookware",
     "PVC-free TPU-coated polyester",
     {"Capacity": "10 L", "Packed size": "20 x 12 cm", "Handles": "Webbing, with hang loop"},
     "A folding wash basin for dishes, laundry and washing up at camp."),
    (13, "Clearflow Squeeze Water Filter", "Northfall", 39.95, ["Blue"], 85, "Water Treatment",
     "hollow-fibre membrane, polypropylene housing",
     {"Pore size": "0.1 micron", "Cartridge life": "up to 4000 L",
      "Flow rate": "1.2 L/min", "Includes": "two 1 L soft bottles"},
     "A pocket-sized squeeze filter that screws onto standard bottles and soft flasks."),
    (14, "Clearflow Gravity Filter 6 L", "Northfall", 109.00, ["Blue", "Grey"], 330, "Water Treatment",
     "hollow-fibre membrane, 6 L TPU reservoir",
     {"Reservoir capacity": "6 L", "Flow rate": "1.5 L/min", "Pore size": "0.1 micron",
      "Cartridge life": "up to 6000 L"},
     "Hang it from a branch and let gravity filter water for the whole group."),
    (15, "Icebox 45 Hard Cooler", "Talusworks", 249.00, ["White", "Sand"], 10400,
     "Coolers & Camp Furniture", "rotomoulded polyethylene with polyurethane foam insulation",
     {"Capacity": "45 L", "Ice retention": "up to 5 days",
      "Features": "Bear-resistant latches, drain plug, rope handles"},
     "A rotomoulded cooler with thick foam walls and latches tough enough for the back of a pickup."),
    (16, "Icebox 20 Soft Cooler", "Talusworks", 129.00, ["Sand", "Charcoal"], 1400,
     "Coolers & Camp Furniture", "TPU-coated nylon shell, closed-cell foam insulation",
     {"Capacity": "20 L", "Ice retention": "up to 2 days", "Closure": "Waterproof zip"},
     "A leakproof soft cooler with a shoulder strap, for day trips and picnics."),
    (17, "Fold-Flat Camp Table", "Ridgeline", 79.00, ["Silver", "Black"], 3900,
     "Coolers & Camp Furniture", "aluminium slat top, steel legs",
     {"Table top": "90 x 60 cm", "Height": "70 cm", "Max load": "30 kg"},
     "A roll-top aluminium table that sets up in seconds and cleans with a wipe."),
    (18, "Thermo 750 Insulated Bottle", "Ridgeline", 34.95, ["Forest Green", "Ember Orange", "Black"], 390,
     "Coffee & Drinkware", "double-wall vacuum-insulated 18/8 stainless steel",
     {"Capacity": "0.75 L", "Keeps hot": "12 hours", "Keeps cold": "24 hours"},
     "A vacuum-insulated bottle with a leakproof lid that doubles as a cup."),
    (19, "Windwall Stove Windscreen", "", 17.95, ["Silver"], 140, "Stoves",
     "anodised aluminium panels",
     {"Panels": "10 folding panels", "Height": "12 cm", "Use with": "liquid-fuel and remote-canister stoves"},
     "A folding aluminium windscreen that cuts boil times on breezy ridges."),
    (20, "Campfire Grill Grate", "Talusworks", 44.95, ["Black"], 1900, "Coolers & Camp Furniture",
     "chrome-plated steel with folding legs",
     {"Grill surface": "60 x 35 cm", "Legs": "Folding, 20 cm", "Includes": "canvas carry bag"},
     "A folding-leg grate that turns any fire ring into a grill."),
]

_KITCHEN_EXTRA_SPECS = {
    2: {"Total system weight": "420 g (burner, pot, lid, cosy)",
        "Pot diameter": "10.5 cm"},
}

_LIGHTING = [
    (1, "Beacon 400 Headlamp", "Emberline", 39.95, ["Black", "Ocean Blue"], 78, "Headlamps",
     "polycarbonate housing, elastic headband",
     {"Max output": "400 lumens", "Beam distance": "85 m", "Battery": "3 x AAA (included)",
      "Runtime": "4 h on high, 120 h on low", "Water resistance": "IPX4"},
     "An everyday headlamp with a red night-vision mode and a lock-out switch for your pack."),
    (2, "Beacon 900 Rechargeable Headlamp", "Emberline", 79.95, ["Black", "Signal Orange"], 112,
     "Headlamps", "aluminium and polycarbonate housing, reflective headband",
     {"Max output": "900 lumens", "Beam distance": "140 m",
      "Battery": "2000 mAh lithium-ion, rechargeable via USB-C",
      "Runtime": "3 h on high, 150 h on low", "Water resistance": "IPX7 (30 min at 1 m)",
      "Charge time": "4 hours"},
     "A bright rechargeable headlamp with reactive lighting that dims automatically when you "
     "read a map."),
    (3, "Glowworm 300 Lantern", "Emberline", 44.95, ["Forest Green", "Sand"], 260,
     "Lanterns & Flashlights", "polycarbonate diffuser, silicone base",
     {"Max output": "300 lumens", "Battery": "4400 mAh lithium-ion, USB-C",
      "Runtime": "6 h on high, 80 h on low", "Water resistance": "IPX4"},
     "A collapsible lantern with a warm-white glow that also charges your phone."),
    (4, "Starlit 5 m String Lights", "Emberline", 29.95, ["Warm White"], 150,
     "Lanterns & Flashlights", "silicone-coated copper wire, ABS battery box",
     {"Length": "5 m, 50 LEDs", "Battery": "3 x AA (not included)",
      "Runtime": "up to 48 h on low"},
     "Fifty warm-white LEDs on a 5 m line, for tents, porches and campsite dinners."),
    (5, "Voltpack 10000 Power Bank", "Emberline", 49.95, ["Black"], 210,
     "Power & Navigation", "aluminium shell, lithium-polymer cell",
     {"Capacity": "10000 mAh", "Ports": "1 x USB-C (20 W in/out), 1 x USB-A (18 W out)",
      "Water resistance": "IP54"},
     "A slim, rugged power bank that charges a phone about two and a half times."),
    (6, "Sunfold 21 W Solar Panel", "Emberline", 119.00, ["Charcoal"], 620,
     "Power & Navigation", "monocrystalline cells, polyester canvas folding case",
     {"Peak output": "21 W", "Ports": "2 x USB-A, 1 x USB-C", "Folded size": "28 x 16 cm"},
     "A folding solar charger that hangs from your pack or tent with four corner loops."),
    (7, "Torrent 1200 Flashlight", "Emberline", 59.95, ["Black"], 165,
     "Lanterns & Flashlights", "anodised aluminium body",
     {"Max output": "1200 lumens", "Beam distance": "230 m",
      "Battery": "21700 lithium-ion, rechargeable via USB-C", "Water resistance": "IPX8"},
     "A pocket flashlight with a 230 m beam, for searching campsites and night hikes."),
    (8, "Glimmer Kids Headlamp", "", 19.95, ["Lime", "Purple"], 55, "Headlamps",
     "soft silicone housing, elastic headband",
     {"Max output": "50 lumens", "Battery": "2 x AAA (included)",
      "Runtime": "30 h on low, auto-off after 30 min"},
     "A soft, kid-safe headlamp with a capped brightness and an automatic shut-off timer."),
]

_ACCESSORIES = [
    (1, "Alpine 2 Footprint", "Ridgeline", 49.00, ["Slate Grey"], 190, "Tent Accessories",
     "68D polyester with PU coating",
     {"Fits": "Alpine 2 Tent (RL-TNT-001)", "Dimensions": "215 x 130 cm",
      "Waterproof rating": "5000 mm hydrostatic head"},
     "A custom-cut groundsheet that protects the Alpine 2 floor and lets you pitch fly-only."),
    (2, "Ridgewalk Aluminium Trekking Poles", "Ridgeline", 89.00, ["Black", "Forest Green"], 540,
     "Trail Accessories", "7075 aluminium shafts, cork grips, carbide tips",
     {"Length": "105-135 cm, adjustable", "Locks": "external lever locks",
      "Weight": "540 g per pair"},
     "Adjustable three-section poles with cork grips and quick lever locks, sold as a pair."),
    (3, "Trueline Baseplate Compass", "Northfall", 34.95, ["Clear"], 42, "Trail Accessories",
     "acrylic baseplate, liquid-filled capsule",
     {"Declination adjustment": "Yes, tool-free", "Scales": "1:25000, 1:50000, inches",
      "Mirror": "No"},
     "A baseplate compass with map scales and a luminous bezel, for learning to navigate."),
    (4, "Drypack 20 L Dry Bag", "Talusworks", 24.95, ["Yellow", "Blue", "Black"], 120,
     "Camp Accessories", "welded TPU-coated nylon",
     {"Capacity": "20 L", "Closure": "Roll-top with buckle", "Waterproof": "Yes, not submersible"},
     "A roll-top dry bag for kayaks, pack liners and rainy bus stations."),
    (5, "Loft Camp Chair", "Talusworks", 99.00, ["Charcoal", "Ocean Blue"], 1050, "Camp Accessories",
     "600D polyester seat, aluminium frame",
     {"Seat height": "30 cm", "Max load": "120 kg", "Packed size": "40 x 12 cm"},
     "A packable camp chair with a high back, assembled in a minute from shock-corded poles."),
    (6, "Cloudrest Inflatable Pillow", "Ridgeline", 29.95, ["Slate Grey", "Ember Orange"], 85,
     "Camp Accessories", "20D nylon with brushed polyester cover",
     {"Inflated size": "38 x 26 x 11 cm", "Packed size": "9 x 6 cm", "Valve": "One-way, micro-adjust"},
     "A curved inflatable pillow with a soft brushed cover and a micro-adjust valve."),
    (7, "Trailside First Aid Kit", "", 39.95, ["Red"], 310, "Trail Accessories",
     "ripstop nylon case",
     {"Pieces": "86", "Serves": "1-4 people, up to 4 days",
      "Includes": "blister care, bandages, tweezers, foil blanket, guide"},
     "A compact 86-piece kit organised into labelled pockets, with blister care up front."),
    (8, "Forge 12 Multi-Tool", "Kestrel Peak", 69.00, ["Stainless"], 230, "Trail Accessories",
     "420 stainless steel",
     {"Tools": "12", "Blade length": "7 cm, locking", "Includes": "nylon belt sheath"},
     "A 12-tool multi-tool with pliers, a locking blade and a bit driver, in a belt sheath."),
    (9, "Wayward Microfibre Towel L", "Northfall", 24.95, ["Teal", "Sand"], 180, "Camp Accessories",
     "polyester-polyamide microfibre",
     {"Size": "60 x 120 cm", "Dries": "about 3 times faster than cotton"},
     "A fast-drying travel towel with a hang loop and a mesh stuff sack."),
    (10, "Ranger Gaiters", "Kestrel Peak", 49.00, ["Black"], 260, "Trail Accessories",
     "waterproof-breathable nylon upper, 1000D nylon lower",
     {"Height": "40 cm", "Closure": "front zip with hook-and-loop storm flap",
      "Sizes": "S/M, L/XL"},
     "Knee-high gaiters that keep snow, mud and scree out of your boots.",
     ["S/M", "L/XL"]),
]


def _generic(category, row, extra_specs=None, file="products.csv", stock=None):
    sizes = row[10] if len(row) > 10 else []
    (num, title, brand, price, colours, weight, sub, material, specs, tagline) = row[:10]
    keys = list(specs)[:2]
    second = "{}: {}; {}: {}; weighs {} g.".format(keys[0], specs[keys[0]], keys[1].lower(),
                                                   specs[keys[1]], weight)
    specs = dict(specs)
    specs.setdefault("Weight", "{} g".format(weight))
    if extra_specs:
        specs.update(extra_specs)
    return _make(category, num, title, brand, price, colours, weight, material, [tagline, second],
                 sub, specs, sizes=sizes, file=file, stock=stock)


# ---------------------------------------------------------------------------------------
# Footwear (price_list.xlsx)
# (num, title, brand, price, colours, weight_g per pair, sizes (EU), subcategory, material,
#  tagline, notes)
# ---------------------------------------------------------------------------------------
def _eu(lo, hi, half=False):
    return ["EU {}".format(n) for n in range(lo, hi + 1)]


_FOOTWEAR = [
    (1, "Granite Mid Waterproof Hiking Boot", "Ridgeline", 189.00, ["Brown", "Black"], 1180, _eu(40, 47),
     "Hiking Boots", "nubuck leather upper, RidgeDry waterproof membrane, rubber lug outsole",
     "A waterproof mid-cut hiking boot with a stiff heel counter and a 5 mm lug outsole.", ""),
    (2, "Granite Mid Women's Waterproof Hiking Boot", "Ridgeline", 189.00, ["Taupe", "Plum"], 1020,
     _eu(36, 42), "Hiking Boots",
     "nubuck leather upper, RidgeDry waterproof membrane, rubber lug outsole",
     "The Granite Mid on a women's last, with a narrower heel and a lower-volume forefoot.", ""),
    (3, "Ridgewalker Low Hiking Shoe", "Ridgeline", 139.00, ["Grey", "Olive"], 860, _eu(40, 47),
     "Trail Shoes", "suede and mesh upper, RidgeDry waterproof membrane, rubber outsole",
     "A low-cut waterproof hiking shoe for day hikes and travel.", ""),
    (4, "Summitline Leather Backpacking Boot", "Kestrel Peak", 279.00, ["Brown"], 1560, _eu(39, 47),
     "Hiking Boots", "2.6 mm full-grain leather upper, waterproof membrane, rubber rand, Vibram-style outsole",
     "A full-grain leather boot for heavy loads and rough trails, resoleable by our repair partner.",
     "Resoleable"),
    (5, "Couloir Mountaineering Boot", "Kestrel Peak", 449.00, ["Signal Orange", "Black"], 1980,
     _eu(39, 47), "Winter Boots",
     "synthetic upper with integrated gaiter, insulated waterproof membrane, carbon midsole",
     "A stiff, insulated mountaineering boot compatible with step-in crampons.",
     "Compatible with step-in (C3) crampons"),
    (6, "Talus Trail Runner", "Talusworks", 129.00, ["Lime", "Black"], 580, _eu(40, 47),
     "Trail Shoes", "engineered mesh upper, EVA midsole, 4 mm lug rubber outsole",
     "A cushioned trail runner with a rock plate and a 6 mm heel-to-toe drop.", ""),
    (7, "Talus Women's Trail Runner", "Talusworks", 129.00, ["Teal", "Purple"], 500, _eu(36, 42),
     "Trail Shoes", "engineered mesh upper, EVA midsole, 4 mm lug rubber outsole",
     "The Talus Trail Runner on a women's last, with the same rock plate and 6 mm drop.", ""),
    (8, "Scramble Approach Shoe", "Kestrel Peak", 149.00, ["Grey", "Yellow"], 820, _eu(39, 47),
     "Trail Shoes", "suede upper with rubber toe rand, sticky rubber climbing zone",
     "An approach shoe with a sticky rubber toe for scrambling and easy climbing.", ""),
    (9, "Riverbed Sport Sandal", "Northfall", 69.00, ["Black", "Olive"], 540, _eu(40, 47),
     "Sandals & Camp Shoes", "polyester webbing straps, EVA footbed, rubber outsole",
     "A grippy adjustable sandal for river crossings and camp.", ""),
    (10, "Riverbed Women's Sport Sandal", "Northfall", 69.00, ["Teal", "Black"], 460, _eu(36, 42),
     "Sandals & Camp Shoes", "polyester webbing straps, EVA footbed, rubber outsole",
     "The Riverbed sandal on a women's footbed.", ""),
    (11, "Snowline Insulated Winter Boot", "Ridgeline", 199.00, ["Black", "Brown"], 1650, _eu(40, 47),
     "Winter Boots", "leather and nylon upper, 200 g synthetic insulation, waterproof membrane",
     "An insulated waterproof winter boot rated to -30 \u00b0C, with a warm fleece lining.", ""),
    (12, "Snowline Women's Insulated Winter Boot", "Ridgeline", 199.00, ["Black", "Taupe"], 1380,
     _eu(36, 42), "Winter Boots",
     "leather and nylon upper, 200 g synthetic insulation, waterproof membrane",
     "The women's Snowline, rated to -30 \u00b0C, with a faux-fur cuff.", ""),
    (13, "Hutwarmer Down Camp Bootie", "Northfall", 59.00, ["Charcoal", "Red"], 240,
     ["S (EU 36-39)", "M (EU 40-43)", "L (EU 44-47)"], "Sandals & Camp Shoes",
     "20D nylon shell, 650-fill-power duck down, foam sole",
     "Down-filled booties for cold tent nights and hut evenings.", ""),
    (14, "Fellrunner Mountain Running Shoe", "", 119.00, ["Red", "Black"], 540, _eu(39, 47),
     "Trail Shoes", "synthetic mesh upper, 6 mm lug rubber outsole",
     "A low-profile mountain running shoe with aggressive lugs for mud and wet grass.",
     "Limited sizes"),
    (15, "Canyon Water Shoe", "Talusworks", 79.00, ["Black", "Sky Blue"], 480, _eu(38, 47),
     "Sandals & Camp Shoes", "quick-drain mesh upper, rubber outsole",
     "A closed-toe water shoe with drain ports, for canyoning and paddling.", ""),
    (16, "Trailhead Kids Hiking Boot", "Ridgeline", 79.00, ["Lime", "Purple"], 620, _eu(28, 35),
     "Hiking Boots", "synthetic upper, waterproof membrane, rubber outsole",
     "A waterproof kids' hiking boot with hook-and-loop closure and a reinforced toe.", ""),
    (17, "Ridgewalker Mid Wide Fit Boot", "Ridgeline", 159.00, ["Brown"], 980, _eu(40, 47),
     "Hiking Boots", "suede and mesh upper, RidgeDry waterproof membrane, rubber outsole",
     "The Ridgewalker in a mid-cut with a wide (2E) fit for broader feet.", "Wide fit (2E)"),
    (18, "Pathway Everyday Trail Shoe", "", 99.00, ["Grey", "Navy"], 700, _eu(38, 47),
     "Trail Shoes", "knit upper, EVA midsole, rubber outsole",
     "A comfortable non-waterproof shoe for gravel paths, parks and travel days.", ""),
    (19, "Basecamp Recovery Slide", "Talusworks", 39.95, ["Black", "Sand"], 380, _eu(38, 47),
     "Sandals & Camp Shoes", "closed-cell foam",
     "A cushioned foam slide for tired feet after a long day on the trail.", ""),
    (20, "Glacier Pac Boot", "Kestrel Peak", 239.00, ["Black"], 2100, _eu(40, 47),
     "Winter Boots", "waterproof rubber shell, leather upper, removable 9 mm felt liner",
     "A pac boot with a removable felt liner, rated to -40 \u00b0C for ice fishing and deep winter.",
     "Discontinued - last stock"),
]


def _shoe(row):
    (num, title, brand, price, colours, weight, sizes, sub, material, tagline, notes) = row
    if sizes[0].startswith("EU"):
        size_txt = "EU {}\u2013{}".format(sizes[0][3:], sizes[-1][3:])
    else:
        size_txt = ", ".join(sizes)
    ref = "EU 30" if "Kids" in title else ("EU 38" if "Women" in title else "EU 42")
    if not sizes[0].startswith("EU"):
        ref = "size M"
    second = "Sizes {}; weighs {} g per pair ({}).".format(size_txt, weight, ref)
    specs = {"Sizes": size_txt, "Weight": "{} g per pair ({})".format(weight, ref)}
    p = _make("Footwear", num, title, brand, price, colours, weight, material, [tagline, second],
              sub, specs, sizes=sizes, file="price_list.xlsx")
    p["notes"] = notes
    return p


# ---------------------------------------------------------------------------------------
# Jackets & apparel (price_list.xlsx)
# ---------------------------------------------------------------------------------------
_UNISEX = ["XS", "S", "M", "L", "XL", "XXL"]
_WOMENS = ["XS", "S", "M", "L", "XL"]

_APPAREL = [
    (1, "Stormline 2.5L Rain Jacket", "Ridgeline", 149.00, ["Forest Green", "Black", "Ember Orange"], 330,
     _UNISEX, "Rain Jackets", "2.5-layer recycled nylon, 20000 mm waterproof, 15000 g/m\u00b2/24h breathable",
     "A packable rain jacket with pit zips and a helmet-compatible hood.", ""),
    (2, "Stormline Women's 2.5L Rain Jacket", "Ridgeline", 149.00, ["Plum", "Black", "Teal"], 300,
     _WOMENS, "Rain Jackets", "2.5-layer recycled nylon, 20000 mm waterproof, 15000 g/m\u00b2/24h breathable",
     "The Stormline in a women's cut, with a longer hem at the back.", ""),
    (3, "Tempest 3L Alpine Shell", "Kestrel Peak", 399.00, ["Signal Orange", "Black"], 420,
     _UNISEX, "Rain Jackets",
     "3-layer 40D nylon, 28000 mm waterproof, 25000 g/m\u00b2/24h breathable",
     "A bombproof three-layer shell for mountaineering, with a harness-compatible pocket layout.", ""),
    (4, "Hearth 800 Down Jacket", "Kestrel Peak", 329.00, ["Black", "Deep Red", "Ice Blue"], 360,
     _UNISEX, "Insulated Jackets", "15D nylon shell with DWR finish, 800-fill-power goose down (140 g)",
     "A light, warm down jacket that packs into its own chest pocket.", ""),
    (5, "Hearth Women's 800 Down Jacket", "Kestrel Peak", 329.00, ["Plum", "Black"], 320,
     _WOMENS, "Insulated Jackets", "15D nylon shell with DWR finish, 800-fill-power goose down (125 g)",
     "The Hearth down jacket in a women's fit.", ""),
    (6, "Ember Down Vest", "Ridgeline", 139.00, ["Ember Orange", "Slate Grey"], 240,
     _UNISEX, "Insulated Jackets", "20D nylon shell, 650-fill-power duck down",
     "A down vest for layering on cold mornings and around the fire.", ""),
    (7, "Ridgecrest 200 Fleece Jacket", "Ridgeline", 89.00, ["Forest Green", "Navy", "Heather Grey"], 460,
     _UNISEX, "Fleece & Softshell", "200 g/m\u00b2 recycled polyester fleece",
     "A classic full-zip midweight fleece with zipped hand pockets.", ""),
    (8, "Ridgecrest Women's 200 Fleece Jacket", "Ridgeline", 89.00, ["Teal", "Plum", "Heather Grey"], 410,
     _WOMENS, "Fleece & Softshell", "200 g/m\u00b2 recycled polyester fleece",
     "The Ridgecrest fleece in a women's cut.", ""),
    (9, "Windrift Softshell Jacket", "Northfall", 169.00, ["Black", "Sand"], 480,
     _UNISEX, "Fleece & Softshell", "stretch woven polyester-elastane with brushed back, DWR finish",
     "A breathable, wind-resistant softshell for high-output days.", ""),
    (10, "Boreal Insulated Parka", "Kestrel Peak", 449.00, ["Black", "Olive"], 1150,
     _UNISEX, "Insulated Jackets", "2-layer waterproof nylon shell, 700-fill-power goose down",
     "A waterproof down parka comfortable to -25 \u00b0C, with a removable faux-fur ruff.",
     "Ships in 5 business days"),
    (11, "Switchback Convertible Hiking Pants", "Talusworks", 79.00, ["Khaki", "Charcoal"], 380,
     ["S", "M", "L", "XL", "XXL"], "Pants", "quick-dry nylon-elastane, UPF 50",
     "Zip-off hiking pants that convert to shorts, with a cargo pocket.", ""),
    (12, "Scree Softshell Pants", "Northfall", 119.00, ["Black"], 420,
     ["S", "M", "L", "XL", "XXL"], "Pants", "stretch woven nylon-elastane, DWR finish",
     "Tough stretch pants for scrambling, ski touring and cold-weather hiking.", ""),
    (13, "Merino 150 Base Layer Top", "Ridgeline", 79.00, ["Black", "Forest Green"], 170,
     _UNISEX, "Base Layers & Tops", "150 g/m\u00b2 100% merino wool",
     "A long-sleeve merino base layer that stays fresh for days.", ""),
    (14, "Merino 150 Base Layer Bottoms", "Ridgeline", 69.00, ["Black"], 150,
     _UNISEX, "Base Layers & Tops", "150 g/m\u00b2 100% merino wool",
     "Merino leggings for sleeping bags, ski days and winter hikes.", ""),
    (15, "Trailtee Quick-Dry T-Shirt", "", 29.95, ["White", "Sky Blue", "Lime"], 130,
     _UNISEX, "Base Layers & Tops", "recycled polyester jersey",
     "A wicking, quick-dry tee for hot hikes and runs.", ""),
    (16, "Summit Beanie", "Ridgeline", 24.95, ["Signal Orange", "Black", "Forest Green"], 80,
     ["One Size"], "Hats & Gloves", "merino wool and recycled nylon blend",
     "A rib-knit beanie with a fold-up cuff.", ""),
    (17, "Stormline Rain Pants", "Ridgeline", 99.00, ["Black"], 260,
     _UNISEX, "Pants", "2.5-layer recycled nylon, 20000 mm waterproof, 15000 g/m\u00b2/24h breathable",
     "Full-length side zips let you pull these on over boots.", ""),
    (18, "Thermal Liner Gloves", "Northfall", 29.95, ["Black"], 45,
     ["S", "M", "L", "XL"], "Hats & Gloves", "stretch polyester fleece with touchscreen fingertips",
     "Thin fleece liner gloves you can use with a phone.", ""),
    (19, "Cirrus Sun Hoodie", "Northfall", 59.00, ["Sand", "Sky Blue"], 190,
     _UNISEX, "Base Layers & Tops", "lightweight polyester knit, UPF 50+",
     "A lightweight sun hoodie with thumb loops, for desert and high-altitude trips.", ""),
    (20, "Puddle Kids Rain Jacket", "Talusworks", 59.00, ["Yellow", "Navy"], 260,
     ["Kids 4", "Kids 6", "Kids 8", "Kids 10", "Kids 12", "Kids 14"], "Rain Jackets",
     "2-layer waterproof polyester, 10000 mm waterproof, taped seams",
     "A waterproof kids' jacket with reflective trim and a roll-away hood.", "New colour: Navy"),
]


def _garment(row):
    (num, title, brand, price, colours, weight, sizes, sub, material, tagline, notes) = row
    if sizes == ["One Size"]:
        second = "One size; weighs {} g.".format(weight)
        size_list = ["One Size"]
    else:
        ref = "size Kids 8" if sizes[0].startswith("Kids") else "size M"
        second = "Sizes {}\u2013{}; weighs {} g ({}).".format(sizes[0], sizes[-1], weight, ref)
        size_list = sizes
    specs = {"Sizes": ", ".join(size_list), "Weight": "{} g".format(weight)}
    p = _make("Jackets & Apparel", num, title, brand, price, colours, weight, material,
              [tagline, second], sub, specs, sizes=size_list, file="price_list.xlsx")
    p["notes"] = notes
    return p


# ---------------------------------------------------------------------------------------
# New arrivals (new_arrivals.jsonl): lighting & electronics 009-013, accessories 011-015
# ---------------------------------------------------------------------------------------
_NEW_LIGHTING = [
    (9, "Beacon Mini 250 Headlamp", "Emberline", 29.95, ["Black", "Lime"], 42, "Headlamps",
     "polycarbonate housing, elastic headband",
     {"Max output": "250 lumens", "Battery": "700 mAh lithium-ion, USB-C",
      "Runtime": "2 h on high, 40 h on low", "Water resistance": "IPX4"},
     "A 42 g rechargeable headlamp for runners and ultralight hikers."),
    (10, "Halo 500 Rechargeable Lantern", "Emberline", 64.95, ["Sand", "Charcoal"], 340,
     "Lanterns & Flashlights", "aluminium frame, frosted polycarbonate globe",
     {"Max output": "500 lumens", "Battery": "5200 mAh lithium-ion, USB-C",
      "Runtime": "5 h on high, 100 h on low", "Water resistance": "IPX5"},
     "A dimmable lantern with a warm-to-cool colour dial and a hanging hook."),
    (11, "Voltpack 20000 Power Bank", "Emberline", 79.95, ["Black"], 380,
     "Power & Navigation", "aluminium shell, lithium-polymer cells",
     {"Capacity": "20000 mAh", "Ports": "2 x USB-C (45 W in/out), 1 x USB-A (18 W out)",
      "Water resistance": "IP54"},
     "A high-capacity power bank that can top up a laptop at base camp."),
    (12, "Sunfold 28 W Solar Panel", "Emberline", 149.00, ["Charcoal"], 790,
     "Power & Navigation", "monocrystalline cells, polyester canvas folding case",
     {"Peak output": "28 W", "Ports": "2 x USB-A, 1 x USB-C (PD)", "Folded size": "30 x 17 cm"},
     "The bigger Sunfold, with a USB-C PD port that charges phones and power banks faster."),
    (13, "Waypoint 2 GPS Handheld", "Northfall", 299.00, ["Black"], 210,
     "Power & Navigation", "rubberised polycarbonate housing, 2.6-inch sunlight-readable display",
     {"Battery life": "up to 25 h (GPS mode)", "Storage": "16 GB with preloaded topographic maps",
      "Water resistance": "IPX7"},
     "A handheld GPS with preloaded topo maps, a barometric altimeter and an electronic compass."),
]

_NEW_ACCESSORIES = [
    (11, "Carbonlite Trekking Poles", "Kestrel Peak", 159.00, ["Black"], 390, "Trail Accessories",
     "carbon fibre shafts, EVA foam grips, carbide tips",
     {"Length": "110-130 cm, adjustable", "Folded length": "38 cm", "Weight": "390 g per pair"},
     "Folding carbon poles that collapse to 38 cm, for trail runners and fastpackers."),
    (12, "Merino Neck Gaiter", "Ridgeline", 29.95, ["Forest Green", "Black", "Ember Orange"], 40,
     "Trail Accessories", "100% merino wool jersey",
     {"Size": "One size, 25 x 46 cm", "Wear as": "neck gaiter, headband, beanie or face cover"},
     "A merino tube you can wear six ways, warm in winter and cool in summer."),
    (13, "Featherweight Camp Chair", "Northfall", 149.00, ["Black", "Sand"], 510, "Camp Accessories",
     "ripstop polyester seat, aluminium alloy frame",
     {"Max load": "110 kg", "Seat height": "26 cm", "Packed size": "33 x 10 cm"},
     "A 510 g backpacking chair that packs smaller than a water bottle."),
    (14, "Skyhook Packable Hammock", "Talusworks", 59.95, ["Teal", "Olive"], 450, "Camp Accessories",
     "70D parachute nylon, tree-friendly polyester straps",
     {"Size": "275 x 140 cm", "Max load": "180 kg", "Includes": "2 tree straps, 2 carabiners"},
     "A single hammock with tree-friendly straps that sets up in two minutes."),
    (15, "Bruin 11 L Bear Canister", "", 84.95, ["Clear Smoke"], 1150, "Camp Accessories",
     "clear polycarbonate",
     {"Capacity": "11 L (about 5 days of food for one person)", "Opening": "tool-free locking lid"},
     "A see-through bear-resistant food canister that doubles as a camp stool."),
]

# ---------------------------------------------------------------------------------------
# Products that exist only on an HTML product page
# ---------------------------------------------------------------------------------------
_HTML_ONLY = [
    ("Footwear", 21, "Skyrunner Trail Shoe", "Northfall", 159.00, ["Ice Blue", "Black"], 560,
     "Trail Shoes", "recycled mesh upper, supercritical foam midsole, 5 mm lug rubber outsole",
     {"Sizes": "EU 38\u201347", "Weight": "560 g per pair (EU 42)", "Heel-to-toe drop": "6 mm",
      "Stack height": "32 mm heel, 26 mm forefoot", "Lug depth": "5 mm"},
     "A long-distance trail shoe with a bouncy foam midsole and a 5 mm lug outsole.",
     _eu(38, 47), 16, "skyrunner-trail-shoe.html"),
    ("Backpacks", 23, "Pathfinder 30 Daypack", "Ridgeline", 149.00, ["Forest Green", "Slate Grey"], 1050,
     "Daypacks", "210D recycled ripstop nylon body, 420D nylon base",
     {"Capacity": "30 L", "Carry system": "ventilated trampoline mesh back, spring-steel frame",
      "Weight": "1050 g", "Sizes": "S/M, M/L", "Hydration": "Sleeve for reservoir up to 3 L"},
     "A 30 L daypack with a ventilated back, a rain cover and a zip-open front panel.",
     ["S/M", "M/L"], 27, "pathfinder-30-daypack.html"),
    ("Jackets & Apparel", 21, "Cloudburst 3L Rain Jacket", "Kestrel Peak", 279.00,
     ["Ice Blue", "Black", "Signal Orange"], 365, "Rain Jackets",
     "3-layer 30D recycled nylon, 25000 mm waterproof, 20000 g/m\u00b2/24h breathable",
     {"Waterproof rating": "25000 mm hydrostatic head", "Breathability": "20000 g/m\u00b2/24h",
      "Weight": "365 g (size M)", "Sizes": "XS, S, M, L, XL, XXL",
      "Packed size": "packs into its own left hand pocket"},
     "A lightweight three-layer rain jacket for fast hikes in bad weather.",
     _UNISEX, 0, "cloudburst-3l-rain-jacket.html"),
]


def _build_products():
    products = []
    products += [_tent(r) for r in _TENTS]
    products += [_bag(r) for r in _BAGS]
    products += [_pack(r) for r in _PACKS]
    products += [_generic("Camp Kitchen", r, _KITCHEN_EXTRA_SPECS.get(r[0]),
                          stock={2: 26}.get(r[0])) for r in _KITCHEN]
    products += [_generic("Lighting & Electronics", r, stock={2: 33}.get(r[0])) for r in _LIGHTING]
    products += [_generic("Accessories", r) for r in _ACCESSORIES]
    products += [_shoe(r) for r in _FOOTWEAR]
    products += [_garment(r) for r in _APPAREL]
    products += [_generic("Lighting & Electronics", r, file="new_arrivals.jsonl") for r in _NEW_LIGHTING]
    products += [_generic("Accessories", r, file="new_arrivals.jsonl") for r in _NEW_ACCESSORIES]
    for (cat, num, title, brand, price, colours, weight, sub, material, specs, tagline, sizes,
         stock, page) in _HTML_ONLY:
        p = _make(cat, num, title, brand, price, colours, weight, material,
                  [tagline, "Weighs {}.".format(specs["Weight"])], sub, specs, sizes=sizes,
                  stock=stock, file="pages/" + page)
        p["page"] = "pages/" + page
        products.append(p)
    return products


PRODUCTS = _build_products()

# ---------------------------------------------------------------------------------------
# products.csv messiness: sale prices, multi-line descriptions
# ---------------------------------------------------------------------------------------
# sku -> compare-at (original) price; the product's "price" is the sale price.
ON_SALE = {
    "RL-TNT-011": 169.00,
    "RL-SLB-007": 149.00,
    "RL-BPK-007": 95.00,
    "RL-KIT-015": 279.00,
    "RL-LGT-003": 54.95,
    "RL-ACC-005": 119.00,
}

_csv_index = 0
for _p in PRODUCTS:
    if _p["sku"] in ON_SALE:
        _p["compare_at_price"] = ON_SALE[_p["sku"]]
    if _p["file"] == "products.csv":
        # every 7th CSV row keeps its sentences on separate lines (<p> paragraphs in the CSV)
        if _csv_index % 7 == 3:
            _p["description"] = "\n".join(_p["_sentences"])
        _csv_index += 1
for _p in PRODUCTS:
    del _p["_sentences"]
del _p, _csv_index

PRODUCTS_BY_SKU = {p["sku"]: p for p in PRODUCTS}


def _sku_of(title):
    for p in PRODUCTS:
        if p["title"] == title:
            return p["sku"]
    raise KeyError(title)


# ---------------------------------------------------------------------------------------
# Variants (issue 12): what is sold and stocked, per colour and size
# ---------------------------------------------------------------------------------------
# Every product in PRODUCTS and HIDDEN_PRODUCTS also has:
#   options     option names in export order (products.csv: Option1/2 Name, e.g.
#               ["Colour", "Size"]; woocommerce_products.csv: the variation attributes);
#               [] for a product filed as a single row (price list, feed, HTML page)
#   variants    list of dicts, the first one the product's old single row:
#                 sku               the old SKU for the first variant, derived ones after it
#                                   ("RL-SLB-001-BLK-LNG")
#                 options           {option name: value}
#                 price             the price the export writes (Shopify "Variant Price",
#                                   WooCommerce "Sale price" when there is one)
#                 compare_at_price  the price it is compared with (Shopify compare-at,
#                                   WooCommerce regular price under a sale) or None
#                 sale_starts / sale_ends   first and last day of a WooCommerce sale window
#                                   (datetime.date) or None (no window)
#                 stock             units in stock (0 = this variant is sold out)
#                 grams             shipping weight
#   product_id  the key the store files it under: the Shopify handle for products.csv, the
#               SKU everywhere else
#   status      "active"; HIDDEN_PRODUCTS are "draft" or "hidden" (never shown to shoppers)
# A product's own "price", "compare_at_price" and "stock" are what a shopper sees for the
# whole product on TODAY: its lowest current price (the first variant's), that price's
# compare-at price while a sale runs, and the sum of its variants' stock.

TODAY = datetime.date(2026, 12, 7)

# Sold out in every variant stays sold out; a product's stock is split over its variants by
# these weights (a 0 weight sells a variant out while its siblings still have stock).
_STOCK_WEIGHTS = [5, 2, 0, 3, 4, 1, 6, 0, 2, 3, 5, 0, 4]

# Bigger versions cost more: sku -> {size: surcharge over the first variant's price}.
SIZE_SURCHARGES = {
    "RL-SLB-001": {"Long": 30.00},
    "RL-SLB-002": {"Long": 30.00},
    "RL-SLB-003": {"Long": 40.00},
    "RL-SLB-006": {"Wide": 20.00},
    "RL-SLB-013": {"Long": 25.00},
}
# Extra shipping weight of a bigger size (fraction of the first variant's).
_SIZE_EXTRA_WEIGHT = {"Long": 0.08, "Women's Long": 0.08, "Wide": 0.12}

# A sale on some colours only (clearance of a colour): sku -> the colours on sale.
SALE_COLOURS = {"RL-ACC-005": ["Charcoal"]}

_CODES = {
    "Black": "BLK", "Grey": "GRY", "Blue": "BLU", "Green": "GRN", "Red": "RED",
    "Yellow": "YEL", "Sand": "SND", "Olive": "OLV", "Tan": "TAN", "Navy": "NVY",
    "Lime": "LIM", "Purple": "PUR", "Teal": "TEA", "Charcoal": "CHR", "Silver": "SLV",
    "White": "WHT", "Plum": "PLM", "Natural": "NAT", "Taupe": "TPE", "Brown": "BRN",
    "Regular": "REG", "Long": "LNG", "Wide": "WDE", "Double": "DBL", "Wide Long": "WLG",
    "Women's Regular": "WREG", "Women's Long": "WLNG", "Kids": "KID",
    "Kids (up to 150 cm)": "KID",
}


def _code(value):
    """An option value as a SKU suffix part: "Forest Green" -> "FG", "S/M" -> "SM"."""
    if value in _CODES:
        return _CODES[value]
    words = [w for w in "".join(c if c.isalnum() else " " for c in value).split()]
    if len(words) > 1 and len("".join(words)) > 4:
        return "".join(w[0] for w in words).upper()
    return "".join(words).upper()


def _split_stock(total, count, seed):
    """``total`` units over ``count`` variants, deterministically, largest remainder."""
    if count == 1 or total == 0:
        return [total] + [0] * (count - 1)
    weights = [_STOCK_WEIGHTS[(seed * 5 + k * 3) % len(_STOCK_WEIGHTS)] for k in range(count)]
    if not any(weights):
        weights[0] = 1
    shares = [total * w / sum(weights) for w in weights]
    counts = [int(s) for s in shares]
    by_remainder = sorted(range(count), key=lambda k: (counts[k] - shares[k], k))
    for k in by_remainder[: total - sum(counts)]:
        counts[k] += 1
    return counts


def _variant(sku, options, price, stock, grams, compare_at_price=None, sale_starts=None,
             sale_ends=None):
    return {"sku": sku, "options": dict(options), "price": float(price),
            "compare_at_price": None if compare_at_price is None else float(compare_at_price),
            "sale_starts": sale_starts, "sale_ends": sale_ends, "stock": int(stock),
            "grams": int(grams)}


def price_on(variant, day=None):
    """What a variant costs on ``day`` (default TODAY): its sale price inside the sale's
    window, its regular (compare-at) price outside it."""
    day = day or TODAY
    return variant["compare_at_price"] if not sale_active(variant, day) and (
        variant["compare_at_price"] or 0) > variant["price"] else variant["price"]


def sale_active(variant, day=None):
    """Whether a variant is on sale on ``day`` (default TODAY)."""
    day = day or TODAY
    if variant["compare_at_price"] is None or variant["compare_at_price"] <= variant["price"]:
        return False
    if variant["sale_starts"] is not None and day < variant["sale_starts"]:
        return False
    return variant["sale_ends"] is None or day <= variant["sale_ends"]


def _shopify_variants(p, index):
    """products.csv: a variant per colour (and size); the first keeps the product's SKU,
    price and compare-at price."""
    colour_name = "Color" if index % 6 == 5 else "Colour"  # two staff, two spellings
    axes = [(colour_name, p["colours"])]
    if p["sizes"]:
        axes.append(("Size", p["sizes"]))
    combos = [[]]
    for name, values in axes:
        combos = [c + [(name, v)] for c in combos for v in values]
    stocks = _split_stock(p["stock"], len(combos), index)
    surcharges = SIZE_SURCHARGES.get(p["sku"], {})
    on_sale_colours = SALE_COLOURS.get(p["sku"], p["colours"])
    variants = []
    for k, combo in enumerate(combos):
        options = dict(combo)
        size = options.get("Size", "")
        extra = surcharges.get(size, 0.0)
        price = p["price"] + extra
        compare = None
        if p["compare_at_price"] is not None:
            if options[colour_name] in on_sale_colours:
                compare = p["compare_at_price"] + extra
            else:
                price = p["compare_at_price"] + extra  # this colour is not reduced
        if k == 0:
            sku = p["sku"]
        else:
            parts = [_code(value) for (name, values), (_, value) in zip(axes, combo)
                     if len(values) > 1]
            sku = "{}-{}".format(p["sku"], "-".join(parts))
        grams = round(p["weight_g"] * (1 + _SIZE_EXTRA_WEIGHT.get(size, 0.0)) / 10) * 10 \
            if size in _SIZE_EXTRA_WEIGHT else p["weight_g"]
        variants.append(_variant(sku, options, price, stocks[k], grams, compare))
    return [name for name, _ in axes], variants


def _single_variant(p):
    return [_variant(p["sku"], {}, p["price"], p["stock"], p["weight_g"], p["compare_at_price"])]


_csv_index = 0
for _p in PRODUCTS:
    _p["status"] = "active"
    if _p["file"] == "products.csv":
        _p["options"], _p["variants"] = _shopify_variants(_p, _csv_index)
        _p["product_id"] = _p["handle"]
        _csv_index += 1
    else:
        _p["options"], _p["variants"] = [], _single_variant(_p)
        _p["product_id"] = _p["sku"]
del _p, _csv_index


# ---------------------------------------------------------------------------------------
# WooCommerce products (woocommerce_products.csv): the shop's newest products, still added
# in its old WooCommerce back office. Keyed by their SKU. The export carries no product
# page address, so their "url" is "".
# ---------------------------------------------------------------------------------------
WOO_FILE = "woocommerce_products.csv"


def _woo(num, woo_id, title, brand, colours, sizes, weight_g, subcategory, category_path,
         material, specs, short_description, sentences, variants, options=(), status="active",
         category="Accessories"):
    stock = sum(v["stock"] for v in variants)
    p = _make(category, num, title, brand, 0.0, colours, weight_g, material, sentences,
              subcategory, specs, sizes=sizes, stock=stock, file=WOO_FILE)
    del p["_sentences"]
    today = [price_on(v) for v in variants]
    first = variants[today.index(min(today))]
    p.update({
        "price": min(today),
        "compare_at_price": first["compare_at_price"] if sale_active(first) else None,
        "url": "",
        "woo_id": woo_id,
        "woo_category": category_path,
        "short_description": short_description,
        "options": list(options),
        "variants": variants,
        "product_id": p["sku"],
        "status": status,
    })
    return p


def _woo_variants(sku, axes, rows):
    """rows: (option values, price, stock, grams, suffix) per variation."""
    return [_variant("{}-{}".format(sku, suffix), dict(zip(axes, values)), price, stock, grams)
            for values, price, stock, grams, suffix in rows]


WOO_PRODUCTS = [
    # A variable product: the bigger pads cost more, the Long one is sold out.
    _woo(16, 2301, "Loftrest Insulated Sleeping Pad", "Ridgeline", ["Slate Grey"],
         ["Regular", "Long", "Wide Long"], 620, "Sleeping Pads",
         "Camping > Camp Accessories > Sleeping Pads",
         "30D ripstop nylon top, 40D nylon base, synthetic insulation",
         {"R-value": "4.2", "Thickness": "7.5 cm",
          "Dimensions": "Regular 183 x 51 cm, Long 198 x 51 cm, Wide Long 198 x 64 cm",
          "Packed size": "23 x 10 cm", "Valve": "Flat two-way valve, pump sack included"},
         "A warm, quiet air pad that packs to the size of a water bottle.",
         ["An insulated three-season air pad with baffles that don't crinkle when you roll over.",
          "R-value 4.2, 7.5 cm thick; the Regular weighs 620 g."],
         _woo_variants("RL-ACC-016", ["Size"], [
             (["Regular"], 149.00, 7, 620, "REG"),
             (["Long"], 169.00, 0, 700, "LNG"),
             (["Wide Long"], 189.00, 4, 820, "WLG"),
         ]), options=["Size"]),
    # A variable product with two attributes (colour x size), per-variation stock.
    _woo(17, 2310, "Trailmark Merino Hiking Socks", "Northfall", ["Charcoal", "Forest Green"],
         ["M", "L", "XL"], 90, "Trail Accessories", "Hiking > Trail Accessories > Socks",
         "70% merino wool, 27% nylon, 3% elastane",
         {"Cushioning": "Medium, full cushion underfoot",
          "Size guide": "M fits EU 39-42, L fits EU 43-46, XL fits EU 47-49",
          "Height": "Crew"},
         "Cushioned merino crew socks that stay fresh for days on the trail.",
         ["Crew-height hiking socks with a cushioned sole and a seamless toe.",
          "Merino blend, one pair per pack; weighs 90 g per pair."],
         _woo_variants("RL-ACC-017", ["Colour", "Size"], [
             (["Charcoal", "M"], 24.95, 6, 90, "CHR-M"),
             (["Charcoal", "L"], 24.95, 0, 95, "CHR-L"),
             (["Charcoal", "XL"], 24.95, 3, 100, "CHR-XL"),
             (["Forest Green", "M"], 24.95, 4, 90, "FG-M"),
             (["Forest Green", "L"], 24.95, 5, 95, "FG-L"),
             (["Forest Green", "XL"], 24.95, 0, 100, "FG-XL"),
         ]), options=["Colour", "Size"]),
    # A simple product on sale now, its sale ending in the future.
    _woo(18, 2320, "Emberglow Packable Camp Blanket", "Northfall", ["Ember Orange"], [], 540,
         "Camp Accessories", "Camping > Camp Accessories",
         "20D ripstop nylon shell, synthetic insulation",
         {"Dimensions": "190 x 135 cm", "Packed size": "28 x 15 cm",
          "Care": "Machine washable"},
         "A lofty, water-resistant blanket for cold evenings at camp.",
         ["A packable insulated blanket with a snap-closure foot pocket and a stuff sack.",
          "190 x 135 cm; weighs 540 g."],
         [_variant("RL-ACC-018", {}, 69.00, 16, 540, 89.00,
                   datetime.date(2026, 11, 27), datetime.date(2027, 1, 4))]),
    # A simple product with a sale that has not started yet: full price today.
    _woo(19, 2321, "Couloir Avalanche Shovel", "Kestrel Peak", ["Signal Orange"], [], 610,
         "Avalanche Safety", "Winter > Avalanche Safety",
         "6061 aluminium blade, telescoping aluminium shaft",
         {"Blade size": "27 x 23 cm", "Length": "58-82 cm, telescoping",
          "Modes": "shovel or hoe"},
         "A light, stiff avalanche shovel that fits in a ski touring pack.",
         ["An aluminium avalanche shovel with a telescoping shaft and a hoe mode for deep "
          "digging.", "Length 58-82 cm; weighs 610 g."],
         [_variant("RL-ACC-019", {}, 59.00, 10, 610, 79.00,
                   datetime.date(2026, 12, 26), datetime.date(2027, 1, 10))]),
    # A simple product whose sale window has ended: full price again.
    _woo(20, 2322, "Ridgeline Tent Repair Kit", "Ridgeline", [], [], 95,
         "Tent Accessories", "Camping > Tents > Tent Accessories",
         "nylon repair patches, seam sealer, aluminium pole splint",
         {"Includes": "2 ripstop patches, 2 mesh patches, pole splint, seam sealer, 2 m cord"},
         "Everything you need to fix a tent in the field.",
         ["A pocket kit of self-adhesive ripstop and mesh patches, a pole repair splint and "
          "seam sealer.", "Weighs 95 g."],
         [_variant("RL-ACC-020", {}, 18.95, 40, 95, 24.95,
                   datetime.date(2026, 10, 1), datetime.date(2026, 10, 31))]),
]

# Products shoppers must never see: a draft in products.csv, a product hidden from the
# WooCommerce catalog. Not in PRODUCTS.
_draft = _make("Tents", 23, "Summit Expedition 3 Tent", "Kestrel Peak", 1099.00,
               ["Signal Orange", "Glacier White"], 4400, _M_EXPEDITION,
               ["The three-person version of our expedition dome, launching in spring 2027.",
                "Sleeps 3; 4-season; packed weight 4400 g."],
               "Expedition Tents", {"Capacity": "3 people", "Seasons": "4-season",
                                    "Packed weight": "4400 g"}, stock=6)
del _draft["_sentences"]
_draft["options"], _draft["variants"] = _shopify_variants(_draft, 0)
_draft.update(product_id=_draft["handle"], status="draft")

HIDDEN_PRODUCTS = [
    _draft,
    _woo(21, 2323, "Alpine 2 Replacement Pole Set", "Ridgeline", ["Silver"], [], 420,
         "Tent Accessories", "Camping > Tents > Tent Accessories", "7001-T6 aluminium",
         {"Fits": "Alpine 2 Tent"}, "Warranty and repair part.",
         ["A replacement hubbed pole set for the Alpine 2 Tent, sold through customer "
          "service.", "Weighs 420 g."],
         [_variant("RL-ACC-021", {}, 59.00, 6, 420)], status="hidden"),
]
del _draft

PRODUCTS += WOO_PRODUCTS
PRODUCTS_BY_SKU.update({p["sku"]: p for p in WOO_PRODUCTS})
PRODUCTS_BY_ID = {p["product_id"]: p for p in PRODUCTS}


# ---------------------------------------------------------------------------------------
# Policies
# ---------------------------------------------------------------------------------------
POLICIES = {
    "currency": "USD",
    # shipping
    "free_shipping_threshold": 75.0,          # free standard shipping on orders over $75
    "standard_shipping_cost": 6.95,
    "standard_shipping_days": "3\u20135 business days",
    "standard_shipping_min_days": 3,
    "standard_shipping_max_days": 5,
    "express_shipping_cost": 14.95,
    "express_shipping_days": "1\u20132 business days",
    "express_shipping_min_days": 1,
    "express_shipping_max_days": 2,
    "order_cutoff": "2:00 pm Eastern Time",   # orders before this ship the same business day
    "alaska_hawaii_shipping_cost": 19.95,
    "alaska_hawaii_shipping_days": "5\u201310 business days",
    "canada_shipping_cost": 24.95,
    "canada_shipping_days": "7\u201312 business days",
    "ships_to": ["United States (all 50 states)", "Canada"],
    "order_change_window_hours": 1,
    "payment_methods": ["Visa", "Mastercard", "American Express", "Discover", "PayPal",
                        "Ridgeline Outfitters gift cards"],
    # returns
    "return_days": 30,
    "return_condition": "unused, in original condition, with all tags attached",
    "refund_days": "5\u20137 business days",
    "refund_min_days": 5,
    "refund_max_days": 7,
    "return_label_fee": 5.95,                 # deducted from refunds; exchanges are free
    "exchange_fee": 0.0,
    "original_shipping_refundable": False,
    "damage_report_days": 7,                  # report damaged/lost parcels within 7 days
    "restock_weeks": "2\u20134 weeks",
    "non_returnable": ["gift cards", "opened fuel canisters", "used water filter cartridges",
                       "items marked Final Sale"],
    # warranty (years, against defects in materials and workmanship)
    "warranty_years": {
        "Tents": 2,
        "Sleeping Bags": 3,
        "Backpacks": 5,
        "Footwear": 1,
        "Jackets & Apparel": 2,
        "Camp Kitchen": 3,
        "Lighting & Electronics": 1,
        "Accessories": 1,
    },
    "warranty_claim_days": 10,                # business days to assess a claim
    # contact
    "support_email": "help@ridgeline-outfitters.example",
    "support_phone": "1-800-555-0142",
    "support_hours": "Monday\u2013Friday, 9:00 am\u20136:00 pm Eastern Time",
    # sizing
    "boot_size_chart": [
        # EU, US men, US women, UK, foot length cm
        (36, 4, 5.5, 3.5, 22.5),
        (37, 5, 6.5, 4.5, 23.2),
        (38, 6, 7.5, 5, 23.8),
        (39, 6.5, 8, 6, 24.5),
        (40, 7, 8.5, 6.5, 25.1),
        (41, 8, 9.5, 7.5, 25.8),
        (42, 8.5, 10, 8, 26.4),
        (43, 9.5, 11, 9, 27.1),
        (44, 10, 11.5, 9.5, 27.7),
        (45, 11, 12.5, 10.5, 28.4),
        (46, 12, 13.5, 11, 29.0),
        (47, 13, 14.5, 12, 29.7),
    ],
    "jacket_size_chart": [
        # size, unisex/men's chest cm (min, max), women's chest cm (min, max) or None
        ("XS", (86, 91), (80, 84)),
        ("S", (91, 97), (84, 89)),
        ("M", (97, 104), (89, 94)),
        ("L", (104, 112), (94, 100)),
        ("XL", (112, 120), (100, 106)),
        ("XXL", (120, 128), None),
    ],
    "pants_waist_chart": [
        # size, waist cm (min, max)
        ("XS", (68, 73)), ("S", (73, 78)), ("M", (78, 84)), ("L", (84, 91)), ("XL", (91, 99)),
        ("XXL", (99, 107)),
    ],
    "sleeping_bag_lengths": {"Regular": 183, "Long": 198, "Women's Regular": 168,
                             "Women's Long": 183, "Kids (up to 150 cm)": 150},
    "backpack_torso_cm": {"XS/S": (36, 43), "S/M": (40, 48), "M/L": (46, 54)},
}


# ---------------------------------------------------------------------------------------
# PDF spec sheets (flagship products from products.csv)
# ---------------------------------------------------------------------------------------
SPEC_SHEETS = {
    "RL-TNT-001": {
        "file": "spec_sheets/alpine-2-tent.pdf",
        "overview": [
            "The Alpine 2 Tent is Ridgeline's all-round 2-person backpacking tent for three-season "
            "trips. A hubbed single-pole frame with one cross pole gives near-vertical walls and "
            "105 cm of headroom, so two people can sit up and play cards while it rains.",
            "The fly has a 3000 mm hydrostatic head and the bathtub floor a 5000 mm hydrostatic "
            "head. All fly seams are taped. The inner is half mesh, half solid nylon for a balance of "
            "ventilation and warmth.",
            "Two doors and two vestibules (0.8 m\u00b2 each) mean nobody climbs over anybody, and "
            "each side has its own storage for boots and packs.",
        ],
        "materials": [
            "Fly: 20D ripstop nylon with silicone coating outside and PU coating inside; "
            "3000 mm hydrostatic head; taped seams.",
            "Floor: 30D nylon with PU coating; 5000 mm hydrostatic head.",
            "Inner: 15D breathable nylon and no-see-um mesh.",
            "Poles: 7001-T6 aluminium, 9 mm, hubbed single pole plus one cross pole.",
            "Pegs: 10 aluminium Y-pegs. Guy lines: 4 reflective 2 mm cords with tensioners.",
        ],
        "care": [
            "Always dry the tent completely before storing it, even after a dewy night; packing it "
            "wet for more than 24 hours can cause mildew and damage the coatings.",
            "Clean with lukewarm water and a soft sponge. Never machine wash, tumble dry or use "
            "detergents, which strip the waterproof coatings.",
            "Store loosely in a cool, dry place, not in its stuff sack.",
            "Use the Alpine 2 Footprint (RL-ACC-001, $49.00) to protect the floor from abrasion.",
        ],
        "extra_sections": [
            ("In the box", [
                "Fly, inner tent, pole set, 10 aluminium Y-pegs, 4 guy lines, stuff sack, pole "
                "bag, peg bag and a repair kit with a pole splint and two fabric patches.",
            ]),
            ("Pitching", [
                "1. Lay out the inner tent and peg the four corners.",
                "2. Connect the hubbed pole and clip the inner to it; insert the cross pole.",
                "3. Throw the fly over the frame, matching the colour-coded corners, and buckle it in.",
                "4. Tension the fly straps, peg out both vestibules and the 4 guy lines.",
                "First-time pitch takes about 8 minutes; with practice, under 5 minutes.",
            ]),
            ("Warranty", [
                "Tents are covered by Ridgeline Outfitters' {}-year warranty against defects in "
                "materials and workmanship. See our Warranty Policy for details.".format(
                    POLICIES["warranty_years"]["Tents"]),
            ]),
        ],
    },
    "RL-TNT-004": {
        "file": "spec_sheets/summit-expedition-4-tent.pdf",
        "overview": [
            "The Summit Expedition 4 Tent is a 4-person, 4-season geodesic dome for high camps, "
            "polar trips and winter base camps. Five crossing poles shed snow load and hold firm in "
            "sustained high winds.",
            "The fly has a 5000 mm hydrostatic head and the floor a 10000 mm hydrostatic head. Snow "
            "flaps around the hem can be buried to seal out spindrift.",
        ],
        "materials": [
            "Fly: 40D ripstop nylon, silicone-coated on both sides; 5000 mm hydrostatic head.",
            "Floor: 70D nylon with PU coating; 10000 mm hydrostatic head.",
            "Poles: 9.5 mm aluminium, 5 poles, geodesic.",
            "Pegs: 18 aluminium V-pegs plus 4 snow stakes.",
        ],
        "care": [
            "Dry completely before storage. Brush off snow and ice before packing; never force a "
            "frozen pole section apart.",
            "Clean with water and a soft sponge only. Do not machine wash.",
        ],
        "extra_sections": [],
    },
    "RL-SLB-001": {
        "file": "spec_sheets/glacier-10-down-bag.pdf",
        "overview": [
            "The Glacier -10 Down Bag is a mummy bag with a comfort rating of -10 \u00b0C and a "
            "limit rating of -17 \u00b0C, filled with 850 g of 800-fill-power goose down.",
            "A draft collar, contoured hood and full-length two-way zip with an anti-snag zip "
            "baffle make it a reliable choice from late autumn into early winter.",
        ],
        "materials": [
            "Shell: 20D ripstop nylon with DWR finish.",
            "Lining: 20D nylon taffeta.",
            "Insulation: 800-fill-power goose down, 850 g (size Regular).",
        ],
        "care": [
            "Store uncompressed in the included 90 L cotton storage sack, never in the stuff sack.",
            "Wash rarely, by hand or in a front-loading machine with down-specific wash, then tumble "
            "dry on low heat with clean tennis balls until completely dry.",
        ],
        "extra_sections": [
            ("Sizing", [
                "Regular fits people up to {} cm; Long fits people up to {} cm.".format(
                    POLICIES["sleeping_bag_lengths"]["Regular"],
                    POLICIES["sleeping_bag_lengths"]["Long"]),
            ]),
        ],
    },
    "RL-BPK-001": {
        "file": "spec_sheets/traverse-65-backpack.pdf",
        "overview": [
            "The Traverse 65 Backpack is a 65 L multi-day trekking pack with an adjustable "
            "aluminium internal frame. It is designed for loads up to 25 kg.",
            "The removable lid converts into a hip pack for summit side trips, and the sleeping bag "
            "compartment has its own zip.",
        ],
        "materials": [
            "Body: 210D ripstop nylon. Base: 420D nylon.",
            "Frame: aluminium internal frame with adjustable torso.",
            "Hip belt and shoulder straps: ventilated foam with mesh cover.",
        ],
        "care": [
            "Empty all pockets and shake out debris after each trip.",
            "Hand wash with mild soap and lukewarm water; air dry out of direct sunlight.",
        ],
        "extra_sections": [],
    },
    "RL-KIT-002": {
        "file": "spec_sheets/blaze-pro-cook-system.pdf",
        "overview": [
            "The Blaze Pro Cook System combines a 2200 W burner with a 1.0 L hard-anodised pot "
            "and heat exchanger. It boils 0.5 L of water in 2 min 30 s.",
            "The burner, lid, cosy and a 100 g gas canister all nest inside the pot.",
        ],
        "materials": [
            "Pot: hard-anodised aluminium with heat-exchanger base, 1.0 L.",
            "Cosy: neoprene. Lid: polypropylene with pour spout.",
        ],
        "care": [
            "Let the burner cool before packing. Never use the stove inside a tent or vestibule.",
            "Clean the pot with warm water; do not use abrasive scrubbers on the anodised surface.",
        ],
        "extra_sections": [],
    },
    "RL-LGT-002": {
        "file": "spec_sheets/beacon-900-rechargeable-headlamp.pdf",
        "overview": [
            "The Beacon 900 Rechargeable Headlamp puts out 900 lumens with a 140 m beam, and runs "
            "3 h on high or 150 h on low from its 2000 mAh lithium-ion battery.",
            "It is rated IPX7 (30 min at 1 m) and recharges via USB-C in 4 hours.",
        ],
        "materials": [
            "Housing: aluminium and polycarbonate.",
            "Headband: reflective elastic, removable and washable.",
        ],
        "care": [
            "Recharge to about 50% before storing for more than a month.",
            "Rinse with fresh water after use near salt water, with the charging port cover closed.",
        ],
        "extra_sections": [],
    },
}
SPEC_SHEET_SKUS = list(SPEC_SHEETS)

# ---------------------------------------------------------------------------------------
# HTML product pages
# ---------------------------------------------------------------------------------------
PAGES = {
    "RL-TNT-001": {
        "file": "pages/alpine-2-tent.html",
        "paragraphs": [
            "Our best-selling backpacking tent is built around one idea: stay dry and comfortable "
            "without carrying a kilo more than you need.",
        ],
        "features": [
            "Fly rated 3000 mm hydrostatic head, floor rated 5000 mm hydrostatic head",
            "Two doors and two vestibules",
            "Colour-coded clip pitch, about 8 minutes first time",
            "105 cm peak height",
            "Packed weight 1650 g, minimum trail weight 1480 g",
        ],
    },
    "RL-SLB-001": {
        "file": "pages/glacier-10-down-bag.html",
        "paragraphs": [
            "When the forecast says frost, the Glacier -10 is the bag our staff reach for.",
        ],
        "features": [
            "Comfort -10 \u00b0C, limit -17 \u00b0C",
            "800-fill-power goose down, 850 g fill",
            "Draft collar and contoured hood",
            "Full-length two-way zip",
            "Regular and Long sizes",
        ],
    },
    "RL-BPK-001": {
        "file": "pages/traverse-65-backpack.html",
        "paragraphs": [
            "Made for week-long treks, the Traverse 65 carries heavy loads comfortably thanks to "
            "its adjustable torso and sculpted hip belt.",
        ],
        "features": [
            "65 L capacity, recommended max load 25 kg",
            "Adjustable torso: S/M 40-48 cm, M/L 46-54 cm",
            "Removable lid converts to a hip pack",
            "Rain cover included",
            "Hydration sleeve for a reservoir up to 3 L",
        ],
    },
    "RL-KIT-002": {
        "file": "pages/blaze-pro-cook-system.html",
        "paragraphs": [
            "Boil water for two freeze-dried dinners in the time it takes to pitch the tent.",
        ],
        "features": [
            "2200 W burner with piezo ignition",
            "1.0 L pot with heat-exchanger base",
            "Boils 0.5 L of water in 2 min 30 s",
            "Canister, burner and lid nest inside the pot",
        ],
    },
    "RL-LGT-002": {
        "file": "pages/beacon-900-rechargeable-headlamp.html",
        "paragraphs": [
            "Enough light for night navigation, with a reactive mode that saves battery when you "
            "look at your map.",
        ],
        "features": [
            "900 lumens maximum, 140 m beam",
            "USB-C rechargeable 2000 mAh battery, 4 hour charge",
            "3 h on high, 150 h on low",
            "IPX7 waterproof",
            "Red night-vision mode and lock-out",
        ],
    },
    "RL-FTW-021": {
        "file": "pages/skyrunner-trail-shoe.html",
        "paragraphs": [
            "The Skyrunner is our answer to long, rocky ultras: enough cushioning for 100 km and "
            "enough grip for wet granite.",
            "It is a new online-only model, available in EU 38 to EU 47.",
        ],
        "features": [
            "6 mm heel-to-toe drop",
            "32 mm heel and 26 mm forefoot stack height",
            "5 mm lug rubber outsole",
            "Recycled mesh upper",
        ],
    },
    "RL-BPK-023": {
        "file": "pages/pathfinder-30-daypack.html",
        "paragraphs": [
            "Big enough for a full day in the mountains with a spare layer, lunch and a 3 L "
            "reservoir, small enough for the bus to the trailhead.",
        ],
        "features": [
            "30 L capacity",
            "Ventilated trampoline mesh back",
            "Zip-open front panel and rain cover",
            "Sizes S/M and M/L",
        ],
    },
    "RL-JKT-021": {
        "file": "pages/cloudburst-3l-rain-jacket.html",
        "paragraphs": [
            "A three-layer shell light enough to leave in your pack all summer and tough enough "
            "for autumn storms.",
            "Currently out of stock; new colours arrive soon.",
        ],
        "features": [
            "25000 mm waterproof, 20000 g/m\u00b2/24h breathable",
            "Helmet-compatible hood",
            "Pit zips",
            "Packs into its own hand pocket",
        ],
    },
}
PAGE_SKUS = list(PAGES)
HTML_ONLY_SKUS = [p["sku"] for p in PRODUCTS if p["file"].startswith("pages/")]

for _sku, _sheet in SPEC_SHEETS.items():
    PRODUCTS_BY_SKU[_sku]["spec_sheet"] = _sheet["file"]
for _sku, _page in PAGES.items():
    PRODUCTS_BY_SKU[_sku]["page"] = _page["file"]
del _sku, _sheet, _page

def money(value):
    """75.0 -> '$75', 6.95 -> '$6.95' (policy text style)."""
    if float(value).is_integer():
        return "${:,.0f}".format(value)
    return "${:,.2f}".format(value)


def fmt_num(v):
    """Size-chart numbers: 4 -> '4', 8.5 -> '8.5'; floats >= 15 (foot lengths) keep one decimal."""
    if isinstance(v, float) and not v.is_integer():
        return str(v)
    if isinstance(v, float):
        return "{:.1f}".format(v) if v >= 15 else str(int(v))
    return str(v)


_P = POLICIES
_A2 = PRODUCTS_BY_SKU["RL-TNT-001"]

# (section, question, answer). Answers are generated from POLICIES/PRODUCTS so numbers agree.
FAQ = [
    ("Orders", "How do I place an order?",
     "Add products to your cart at {} and check out. You will get an order confirmation e-mail "
     "with your order number within a few minutes.".format(SHOP_URL)),
    ("Orders", "Which payment methods do you accept?",
     "We accept {}.".format(", ".join(_P["payment_methods"][:-1]) + " and " + _P["payment_methods"][-1])),
    ("Orders", "Can I change or cancel my order?",
     "Yes, within {} hour of placing it: reply to your confirmation e-mail or contact us at {}. "
     "After that the order may already be packed; you can still return it within {} days.".format(
         _P["order_change_window_hours"], _P["support_email"], _P["return_days"])),
    ("Orders", "How can I contact customer service?",
     "E-mail {} or call {}, {}.".format(_P["support_email"], _P["support_phone"],
                                        _P["support_hours"])),
    ("Shipping", "Do you offer free shipping?",
     "Yes. Standard shipping is free on orders over {} within the United States (excluding "
     "Alaska and Hawaii).".format(money(_P["free_shipping_threshold"]))),
    ("Shipping", "How much does shipping cost and how long does it take?",
     "Standard shipping costs {} and takes {}; it is free on orders over {}. Express shipping "
     "costs {} and takes {}.".format(money(_P["standard_shipping_cost"]), _P["standard_shipping_days"],
                                     money(_P["free_shipping_threshold"]),
                                     money(_P["express_shipping_cost"]), _P["express_shipping_days"])),
    ("Shipping", "When will my order ship?",
     "Orders placed before {} on a business day ship the same day; later orders ship the next "
     "business day.".format(_P["order_cutoff"])),
    ("Shipping", "Do you ship to Alaska, Hawaii or Canada?",
     "Yes. Alaska and Hawaii: {}, {}. Canada: {}, {}; duties and taxes may be charged on "
     "delivery.".format(money(_P["alaska_hawaii_shipping_cost"]), _P["alaska_hawaii_shipping_days"],
                         money(_P["canada_shipping_cost"]), _P["canada_shipping_days"])),
    ("Returns", "What is your return policy?",
     "You can return items within {} days of delivery if they are {}.".format(
         _P["return_days"], _P["return_condition"])),
    ("Returns", "How long does a refund take?",
     "Refunds are issued to your original payment method within {} after we receive your "
     "return. A {} return label fee is deducted from refunds; exchanges are free.".format(
         _P["refund_days"], money(_P["return_label_fee"]))),
    ("Returns", "What can't be returned?",
     "{} cannot be returned.".format(", ".join(_P["non_returnable"][:-1]).capitalize()
                                       + " and " + _P["non_returnable"][-1])),
    ("Returns", "What does the warranty cover?",
     "Defects in materials and workmanship: " + "; ".join(
         "{} {} year{}".format(cat, y, "" if y == 1 else "s")
         for cat, y in _P["warranty_years"].items()) + ". Normal wear and tear, misuse and "
     "accidents are not covered."),
    ("Products", "How waterproof is the Alpine 2 Tent?",
     "The Alpine 2 Tent ({}, {}) has a {} fly and a {} floor, and all fly seams are "
     "taped.".format(_A2["sku"], fmt_price(_A2["price"]),
                     _A2["specs"]["Fly waterproof rating"], _A2["specs"]["Floor waterproof rating"])),
    ("Products", "What do comfort and limit temperatures mean on sleeping bags?",
     "The comfort temperature is the lowest temperature at which a typical sleeper stays "
     "comfortable in a relaxed position. The limit temperature is the lowest temperature at "
     "which a sleeper curled up stays warm enough for one night; don't plan trips around it."),
    ("Products", "How do I find my boot size?",
     "Measure your foot from heel to longest toe in centimetres and use the boot chart in our "
     "sizing guide. For example, a {4} cm foot is EU {0} (US men's {1}, US women's {2}, UK {3}). "
     "If you are between sizes, choose the larger size for hiking boots.".format(
         *[fmt_num(v) for v in _P["boot_size_chart"][6]])),
    ("Products", "Does \"out of stock\" mean a product is discontinued?",
     "Usually not. Most out-of-stock items are restocked within {}; use the \"Notify me\" "
     "button on the product page to get an e-mail when it is back.".format(_P["restock_weeks"])),
    ("Care", "How do I wash a down sleeping bag or jacket?",
     "Rarely, by hand or in a front-loading machine, with a down-specific wash. Tumble dry on "
     "low heat with clean tennis balls until no clumps remain, which can take several hours."),
    ("Care", "How do I restore the water repellency of my rain jacket?",
     "Wash it with a technical cleaner, then tumble dry on low heat or iron on a low setting "
     "with a cloth in between. If water still soaks in, apply a spray-on or wash-in DWR treatment."),
    ("Care", "How should I store my tent?",
     "Dry it completely, then store it loosely in a cool, dry place rather than in its stuff "
     "sack. Never store a tent wet for more than 24 hours."),
    ("Care", "How do I break in new leather boots?",
     "Wear them around the house and on short walks for a week or two before a long trip, and "
     "treat the leather with a wax or conditioner made for waterproof-membrane boots."),
]
del _P, _A2
