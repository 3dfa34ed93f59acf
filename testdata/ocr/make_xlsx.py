#!/usr/bin/python3
"""Writes the tiny XLSX workbooks of tests/unit/t_ocr_match.c by hand (zipfile and XML text, no
spreadsheet library), so that every cell kind the matcher reads is there on purpose: shared
strings (one with rich-text runs and a phonetic run to skip), an inline string, numbers, an
entity, a blank row, cells without a reference. Deterministic: fixed member dates.
Run from this directory: /usr/bin/python3 make_xlsx.py"""
import zipfile

CT = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">\
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>\
<Default Extension="xml" ContentType="application/xml"/>\
<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>\
<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>\
<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>\
</Types>"""
RELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">\
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>\
</Relationships>"""
WB = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" \
xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">\
<sheets><sheet name="Заказы" sheetId="1" r:id="rId1"/></sheets></workbook>"""
WBRELS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">\
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>\
<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>\
</Relationships>"""

# Shared strings: index -> XML of the <si> body.
SHARED = [
    "<t>Артикул</t>",                      # 0
    "<t>Серийный номер</t>",               # 1
    "<t>Наименование</t>",                 # 2
    "<t>Заказ</t>",                        # 3
    "<t>Станция</t>",                      # 4
    "<t>АМ117.07.01.211</t>",              # 5
    "<r><rPr><b/></rPr><t>Фланец </t></r><r><t xml:space=\"preserve\">опорный</t></r>"
    "<rPh sb=\"0\" eb=\"1\"><t>ФОНЕТИКА</t></rPh>",  # 6 rich text and a phonetic run
    "<t>З-1043</t>",                       # 7
    "<t>Станция 3</t>",                    # 8
    "<t>195-30-1285</t>",                  # 9
    "<t>Кольцо &amp; шайба</t>",           # 10 an entity
    "<t>З-1044</t>",                       # 11
    "<t>З-1045</t>",                       # 12
    "<t>ВК-12/3</t>",                      # 13
    "<t>0034</t>",                         # 14 a serial with leading zeros: a string
]


def sst():
    body = "".join("<si>%s</si>" % s for s in SHARED)
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'count="%d" uniqueCount="%d">%s</sst>' % (len(SHARED), len(SHARED), body))


def s(ref, idx):
    return '<c r="%s" t="s"><v>%d</v></c>' % (ref, idx)


def n(ref, v):
    return '<c r="%s"><v>%s</v></c>' % (ref, v)


def inline(ref, text):
    return '<c r="%s" t="inlineStr"><is><t>%s</t></is></c>' % (ref, text)


ROWS = [
    # a blank row above the header, as some exports have
    '<row r="1"><c r="A1" s="1"/></row>',
    '<row r="2">%s%s%s%s%s</row>' % (s("A2", 0), s("B2", 1), s("C2", 2), s("D2", 3), s("E2", 4)),
    '<row r="3">%s%s%s%s%s</row>' % (s("A3", 5), n("B3", 29), s("C3", 6), s("D3", 7), s("E3", 8)),
    '<row r="4">%s%s%s%s%s</row>' % (s("A4", 9), n("B4", 2660), s("C4", 10), s("D4", 11),
                                     inline("E4", "Станция 1")),
    # cells without references: columns follow one another
    '<row r="5"><c t="s"><v>9</v></c><c><v>2661</v></c><c t="s"><v>10</v></c>'
    '<c t="s"><v>12</v></c><c t="inlineStr"><is><t>Станция 1</t></is></c></row>',
    # name and station missing, order as an inline string
    '<row r="7">%s%s%s</row>' % (s("A7", 13), s("B7", 14), inline("D7", "З-1050")),
    # a row without an article is skipped
    '<row r="8">%s</row>' % inline("C8", "примечание"),
]


def sheet(rows):
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            '<dimension ref="A1:E8"/><sheetData>%s</sheetData></worksheet>' % "".join(rows))


def write(path, members):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in members:
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, text.encode("utf-8"))


base = [("[Content_Types].xml", CT), ("_rels/.rels", RELS), ("xl/workbook.xml", WB),
        ("xl/_rels/workbook.xml.rels", WBRELS)]
write("orders.xlsx", base + [("xl/worksheets/sheet1.xml", sheet(ROWS)),
                             ("xl/sharedStrings.xml", sst())])
# A workbook whose first sheet is missing.
write("nosheet.xlsx", base + [("xl/sharedStrings.xml", sst())])
# A shared-string index past the table.
write("badref.xlsx", base + [("xl/worksheets/sheet1.xml",
                              sheet(ROWS[:2] + ['<row r="3">%s</row>' % s("A3", 99)])),
                             ("xl/sharedStrings.xml", sst())])
# A sheet cut inside a tag (a workbook saved half-way).
write("badxml.xlsx", base + [("xl/worksheets/sheet1.xml", sheet(ROWS)[:300]),
                             ("xl/sharedStrings.xml", sst())])
