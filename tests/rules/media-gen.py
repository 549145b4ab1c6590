#!/usr/bin/env python3
# media-gen.py - the messages of media-golden.sh, written in DIR: small
# real GIF, PNG and JPEG images of chosen sizes and hand-written PDFs (one
# encrypted, one with images), truncated and corrupt ones too; and
# DIR/99_media_golden.cf, rules for the functions SpamAssassin's files do
# not call, and DIR/expect, "message<TAB>rule" hits each is written for.
#
#   media-gen.py DIR
import base64
import hashlib
import os
import struct
import sys
import zlib

OUT = sys.argv[1]


def gif(w, h):
    """A GIF89a of w x h pixels of colour 0: LZW with 8-bit codes, a
    clear code every 126 pixels so that the code size never grows."""
    head = b"GIF89a" + struct.pack("<HHBBB", w, h, 0x80 | 0x06, 0, 0)
    palette = bytes(3 * 128)
    codes, n = [], w * h
    while n > 0:
        k = min(n, 126)
        codes += [128] + [0] * k
        n -= k
    codes.append(129)
    data = bytes(codes)
    blocks = b"".join(bytes([len(data[i:i + 255])]) + data[i:i + 255]
                      for i in range(0, len(data), 255))
    image = b"," + struct.pack("<HHHHB", 0, 0, w, h, 0) + b"\x07" + \
        blocks + b"\x00"
    return head + palette + image + b";"


def png(w, h):
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + \
            struct.pack(">I", zlib.crc32(t + d))
    raw = b"".join(b"\x00" + bytes(w) for _ in range(h))
    return (b"\x89PNG\r\n\x1a\n" +
            chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def jpeg(w, h, exif=True):
    """The markers of a baseline JPEG up to its scan: SOI, APP0 (JFIF),
    an APP1 before the frame when exif, DQT, SOF0 (h, w), DHT, SOS."""
    def seg(m, d):
        return bytes([0xff, m]) + struct.pack(">H", len(d) + 2) + d
    out = b"\xff\xd8" + seg(0xe0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
    if exif:
        out += seg(0xe1, b"Exif\x00\x00" + bytes(200))
    out += seg(0xdb, b"\x00" + bytes([1] * 64))
    out += seg(0xc0, struct.pack(">BHHB", 8, h, w, 1) + b"\x01\x11\x00")
    out += seg(0xc4, b"\x00" + bytes([0, 1] + [0] * 14) + b"\x00")
    out += seg(0xda, b"\x01\x01\x00\x00\x3f\x00") + b"\x00\xff\xd9"
    return out


def b64(data):
    s = base64.b64encode(data).decode()
    return "\n".join(s[i:i + 76] for i in range(0, len(s), 76))


def message(name, text, parts, html=None, subject=None):
    """parts: (content type, file name or None, data, disposition name
    or None); written base64 unless the type says ;qp."""
    lines = ["From: sender@example.com", "To: rcpt@example.net",
             "Subject: " + (subject or name), "Date: Mon, 2 Dec 2024 10:00:00 +0000",
             "Message-ID: <%s@example.com>" % name, "MIME-Version: 1.0",
             'Content-Type: multipart/mixed; boundary="BOUNDARY"', "",
             "--BOUNDARY", "Content-Type: text/plain; charset=us-ascii", "",
             text]
    if html is not None:
        lines += ["--BOUNDARY", "Content-Type: text/html; charset=us-ascii",
                  "", html]
    for ctype, fname, data, dname in parts:
        cte = "base64"
        if ctype.endswith(";qp"):
            ctype, cte = ctype[:-3], "quoted-printable"
        ct = ctype + ('; name="%s"' % fname if fname else "")
        lines += ["--BOUNDARY", "Content-Type: " + ct,
                  "Content-Transfer-Encoding: " + cte]
        if dname:
            lines.append('Content-Disposition: attachment; filename="%s"'
                         % dname)
        lines.append("")
        if cte == "base64":
            lines.append(b64(data))
        else:
            lines.append(data.decode("latin-1"))
    lines += ["--BOUNDARY--", ""]
    with open(os.path.join(OUT, name + ".eml"), "w", newline="\n") as f:
        f.write("\n".join(lines))


def pdf(objs, trailer_extra=b""):
    """A PDF of the objects (bytes each), with its cross-reference
    table."""
    out = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"
    offs = []
    for i, o in enumerate(objs, 1):
        offs.append(len(out))
        out += b"%d 0 obj\n" % i + o + b"\nendobj\n"
    x = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offs)
    out += b"trailer\n<< /Size %d /Root 1 0 R" % (len(objs) + 1) + \
        trailer_extra + b" >>\nstartxref\n%d\n%%%%EOF\n" % x
    return out


def stream(d, extra=b""):
    return b"<< /Length %d" % len(d) + extra + b" >>\nstream\n" + d + \
        b"\nendstream"


def pdf_tags_md5(data):
    tags = b""
    for line in data.split(b"\n"):
        if line.startswith(b"/"):
            n = 1
            while n < len(line) and chr(line[n]).isalpha():
                n += 1
            tags += line[1:n]
    return hashlib.md5(tags).hexdigest().upper()


text_short = "see the picture"
text_long = " ".join(["This is a long text about the quarterly results."] * 60)

# Images
message("gif-one-large", text_short, [("image/gif", "logo.gif", gif(600, 400), None)])
message("gif-two", text_short, [("image/gif", "a.gif", gif(500, 200), None),
                                ("image/gif", "b.gif", gif(400, 300), None)])
message("png-one-large", text_short, [("image/png", None, png(640, 480), "scan01.png")])
message("png-two", "", [("image/png", "p1.png", png(500, 400), None),
                        ("image/png", "p2.png", png(400, 300), None)],
        html='<html><body><b>Offer</b></body></html>')
message("jpeg-one", text_long, [("image/jpeg", "photo.jpg", jpeg(300, 200), None)])
message("jpeg-two", text_long, [("image/jpg", "x1.jpg", jpeg(120, 80, False), None),
                                ("image/jpeg", "x2.jpg", jpeg(1024, 768), None)])
message("img-small-text", text_long, [("image/png", "icon.png", png(16, 16), None),
                                      ("image/gif", "dot.gif", gif(1, 1), None)])
message("img-mixed", text_short, [("image/gif", "logo.gif", gif(300, 100), None),
                                  ("image/png", "scan77.png", png(200, 150), None),
                                  ("image/jpeg", "p.jpeg", jpeg(50, 40), None)])
message("img-name-2231", text_short, [
    ('image/gif; name*0="long-"; name*1="name.gif"', None, gif(20, 10), None)])
# Truncated and corrupt: counted, without dimensions
g = gif(300, 300)
p = png(300, 300)
j = jpeg(300, 300)
sof = j.index(b"\xff\xc0")
message("img-truncated", text_short, [
    ("image/gif", "short.gif", g[:9], None),
    ("image/png", "short.png", p[:20], None),
    ("image/png", "ihdr-edge.png", p[:28], None),
    ("image/jpeg", "short.jpg", j[:sof + 6], None),
    ("image/jpeg", "zero-len.jpg", b"\xff\xd8\xff\xe0\x00\x00" + j[20:], None),
    ("image/png", "gif-in.png", g, None),
    ("image/gif", "empty.gif", b"", None)])
message("img-corrupt", text_short, [
    ("image/png", "badlen.png", p[:8] + b"\x00\x00\x00\x0eIHDR" + p[16:], None),
    ("image/jpeg", "nomarker.jpg", b"\xff\xd8\x00\x00" + j[4:], None),
    ("image/jpeg", "huge-len.jpg", b"\xff\xd8\xff\xe1\xff\xff" + bytes(40), None),
    ("image/gif", "zero.gif", b"GIF89a\x00\x00\x10\x00" + g[10:], None),
    ("image/gif;qp", "qp.gif", b"GIF89a=01=02=03=04", None)])

# PDFs
simple = pdf([
    b"<< /Type /Catalog /Pages 2 0 R >>",
    b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
    stream(b"BT /F1 12 Tf 72 712 Td (Hello) Tj ET"),
    b"<<\n/Producer (GPL Ghostscript 9.50)\n/Author <FEFF0041006C006900630065>\n"
    b"/Title (a \\(b\\) \\101)\n/CreationDate (D:20240102030405Z)\n>>",
], b" /Info 5 0 R")
encrypted = pdf([
    b"<< /Type /Catalog /Pages 2 0 R >>",
    b"<< /Type /Pages /Kids [] /Count 0 >>",
    b"<< /Filter /Standard /V 1 /R 2 /O <00> /U <00> /P -4 >>",
    b"<< /Producer (PowerPdf 0.9) >>",
], b"\n/Encrypt 3 0 R\n/Info 4 0 R")
images = pdf([
    b"<< /Type /Catalog /Pages 2 0 R >>",
    b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    b"<< /Type /Page /Parent 2 0 R /Resources << /XObject << /Im1 5 0 R /Im2 6 0 R >> >> /Contents 4 0 R >>",
    stream(b"q\n200 0 0 500 0 0 cm\n/Im1 Do\nQ"),
    b"<< /Type /XObject /Subtype /Image /Width 200/Height 500 /BitsPerComponent 8 >>",
    b"<< /Type /XObject /Subtype /Image >>\n" + stream(b"150 0 0 150 0 0 cm"),
    b"<< /Producer (BCL easyPDF 7.0) /Creator (Writer) >>",
])
message("pdf-simple", "", [("application/pdf", "report.pdf", simple, None)])
message("pdf-encrypted", "Please find the invoice.", [
    ("application/octet-stream", None, encrypted, "INV2024.PDF")])
message("pdf-images", "scan", [("application/pdf", "scan.pdf", images, None)])
message("pdf-two", text_long, [("application/pdf", "a.pdf", simple, None),
                               ("image/pdf", "b.fdf", images, None)])
message("pdf-octet-other", text_short, [
    ("application/octet-stream", "data.bin", simple, None)])
hostile = b"%PDF-1.7\n" + b"/Producer (" + b"x" * 5000 + b"\n" + \
    b"/Author <" + b"41" * 300 + b"\n/Title " + b"(" * 3000 + b"\n" + \
    b"/Image\n/Width 0/Height 5\n" + b"/Width 99999999999999999999/Height 1\n" + \
    b"1 2 3 cm\n" + b"/Author (" * 2000 + b")\n"
message("pdf-corrupt", text_short, [
    ("application/pdf", "broken.pdf", simple[:40], None),
    ("application/pdf", "notpdf.pdf", b"\x00" * 2000 + b"%PDF-1.4\n", None),
    ("application/pdf", "hostile.pdf", hostile, None)])

with open(os.path.join(OUT, "99_media_golden.cf"), "w") as f:
    f.write("""
body GOLDEN_GIF_600x400 eval:image_size_exact('gif','400','600')
body GOLDEN_ALL_400x600 eval:image_size_exact('all','600','400')
body GOLDEN_JPEG_RANGE eval:image_size_range('jpeg',150,250,250,350)
body GOLDEN_ALL_RANGE_MIN eval:image_size_range('all',700,1000)
body GOLDEN_PNG_RANGE eval:image_size_range('png',100,100,200)
body GOLDEN_IMG_NAMED eval:image_named('logo.gif')
body GOLDEN_IMG_NAMED_CD eval:image_named('scan01.png')
body GOLDEN_IMG_NAMED_2231 eval:image_named('long-name.gif')
body GOLDEN_IMG_NAME_RE eval:image_name_regex('^scan\\d+\\.png$')
body GOLDEN_IMG_COUNT_3 eval:image_count('all','3')
body GOLDEN_IMG_COUNT_JPG eval:image_count('jpg','1')
body GOLDEN_PC_ALL eval:pixel_coverage('all','50000','300000')
body GOLDEN_PC_JPEG eval:pixel_coverage('jpeg','1')
body GOLDEN_RATIO_BODY eval:image_to_text_ratio('all','0.001','10')
rawbody GOLDEN_RATIO_RAW eval:image_to_text_ratio('png','0','0.01')
body GOLDEN_PDF_COUNT_1 eval:pdf_count('1','1')
body GOLDEN_PDF_COUNT_2 eval:pdf_count('2')
body GOLDEN_PDF_IMAGES eval:pdf_image_count('1')
body GOLDEN_PDF_IMAGES_3 eval:pdf_image_count('3','3')
body GOLDEN_PDF_PC eval:pdf_pixel_coverage('50000','200000')
body GOLDEN_PDF_NAMED eval:pdf_named('report.pdf')
body GOLDEN_PDF_NAME_RE eval:pdf_name_regex('/^inv\\d+\\.pdf$/i')
body GOLDEN_PDF_NAME_BARE eval:pdf_name_regex('^b\\.')
body GOLDEN_PDF_SIZE eval:pdf_image_size_exact('150','150')
body GOLDEN_PDF_SIZE_TOTAL eval:pdf_image_size_exact('650','350')
body GOLDEN_PDF_RANGE eval:pdf_image_size_range(400,100)
body GOLDEN_PDF_MD5 eval:pdf_match_md5('%s')
body GOLDEN_PDF_FUZZY eval:pdf_match_fuzzy_md5('%s')
body GOLDEN_PDF_AUTHOR eval:pdf_match_details('author','/^Alice$/')
body GOLDEN_PDF_TITLE eval:pdf_match_details('title','/^a \\(b\\) A$/')
body GOLDEN_PDF_CREATED eval:pdf_match_details('created','^2024')
body GOLDEN_PDF_CREATOR eval:pdf_match_details('creator','m{writer}i')
body GOLDEN_PDF_EMPTY_20 eval:pdf_is_empty_body('30')
body GOLDEN_PDF_RATIO eval:pdf_image_to_text_ratio('0','1')
""" % (hashlib.md5(simple).hexdigest().lower(), pdf_tags_md5(images)))

with open(os.path.join(OUT, "expect"), "w") as f:
    f.write("""gif-one-large	DC_GIF_UNO_LARGO
gif-one-large	DC_IMAGE_SPAM_TEXT
gif-one-large	GOLDEN_GIF_600x400
gif-one-large	GOLDEN_IMG_NAMED
gif-one-large	__ONE_IMG
gif-one-large	__IMG_LE_300K
gif-two	__DC_GIF_MULTI_LARGO
png-one-large	DC_PNG_UNO_LARGO
png-one-large	GOLDEN_IMG_NAMED_CD
png-one-large	GOLDEN_IMG_NAME_RE
png-two	__DC_PNG_MULTI_LARGO
png-two	DC_IMAGE_SPAM_HTML
png-two	__DC_IMG_HTML_RATIO
png-two	GOLDEN_RATIO_RAW
jpeg-one	__JPEG_ATTACH_1
jpeg-one	GOLDEN_JPEG_RANGE
jpeg-one	GOLDEN_RATIO_BODY
jpeg-two	__JPEG_ATTACH_2P
jpeg-two	GOLDEN_ALL_RANGE_MIN
img-name-2231	GOLDEN_IMG_NAMED_2231
img-mixed	GOLDEN_IMG_COUNT_3
img-mixed	GOLDEN_PNG_RANGE
img-mixed	GOLDEN_PC_ALL
img-mixed	GOLDEN_PC_JPEG
img-mixed	GOLDEN_IMG_NAME_RE
img-truncated	__PNG_ATTACH_2P
img-truncated	__GIF_ATTACH_2P
img-truncated	__JPEG_ATTACH_2P
pdf-simple	GMD_PRODUCER_GPL
pdf-simple	GMD_PDF_EMPTY_BODY
pdf-simple	GOLDEN_PDF_COUNT_1
pdf-simple	GOLDEN_PDF_NAMED
pdf-simple	GOLDEN_PDF_MD5
pdf-simple	GOLDEN_PDF_AUTHOR
pdf-simple	GOLDEN_PDF_TITLE
pdf-simple	GOLDEN_PDF_CREATED
pdf-encrypted	GMD_PDF_ENCRYPTED
pdf-encrypted	GMD_PRODUCER_POWERPDF
pdf-encrypted	GOLDEN_PDF_NAME_RE
pdf-encrypted	GOLDEN_PDF_EMPTY_20
pdf-images	GMD_PRODUCER_EASYPDF
pdf-images	GMD_PDF_VERT
pdf-images	GOLDEN_PDF_IMAGES
pdf-images	GOLDEN_PDF_SIZE
pdf-images	GOLDEN_PDF_SIZE_TOTAL
pdf-images	GOLDEN_PDF_RANGE
pdf-images	GOLDEN_PDF_FUZZY
pdf-images	GOLDEN_PDF_CREATOR
pdf-images	GOLDEN_PDF_RATIO
pdf-images	__GMD_PDF_NO_TXT
pdf-two	GOLDEN_PDF_COUNT_2
pdf-two	GOLDEN_PDF_NAME_BARE
pdf-corrupt	GOLDEN_PDF_COUNT_2
""")
