#!/usr/bin/env python3
"""Writes the antivirus test data into OUTDIR (nothing of it is committed).

    gen_samples.py OUTDIR

OUTDIR/db/       a tiny signature database: NDB body patterns for EICAR and
                 for a marker of our own, HDB md5 sums of EICAR and of a blob,
                 a PDB host for the phishing heuristic
OUTDIR/msg/      messages, one per case
OUTDIR/EXPECTED  "file<TAB>expectation" lines:
                   virus:NAME-PREFIX   AV_VIRUS whose detail starts so
                   heuristic:NAME      AV_HEURISTIC with that detail
                   hit:SYMBOL          that attachment hit, no AV_VIRUS
                   clean               no AV_ and no ATTACH_ hit
OUTDIR/PATHS     "file<TAB>fast|full" lines: the in-process scan's path
                 (AVFastText) for the messages that test it

EICAR is built here from its published string, at test time.  Boundaries,
dates and archive times are fixed so the bytes repeat, except the password
zip (the zip tool salts it).
"""
import base64
import binascii
import hashlib
import io
import os
import quopri
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile

EICAR = (rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$"
         rb"EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*")
OWN_MARKER = b"VIGIL-AV-SELFTEST-MARKER-3f1d0c77e2a94b58"
# In lower case: libclamav matches HTML normalised (lower-cased).
HTML_MARKER = b"vigil-html-selftest-marker-5a0e9b21"
# Bytes only the HDB knows: neither NDB pattern occurs in them.
BLOB = bytes((i * 37 + 11) % 256 for i in range(3000))

HDR = ("From: Sender <sender@example.org>\r\nTo: rcpt@example.net\r\n"
       "Date: Wed, 01 Jan 2020 00:00:00 +0000\r\n"
       "Message-ID: <{id}@example.org>\r\nSubject: {subj}\r\n"
       "MIME-Version: 1.0\r\n")
TEXT = ("Content-Type: text/plain; charset=us-ascii\r\n",
        "Please see the attachment.\r\n")


def zbytes(members):
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members:
            zi = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(zi, data)
    return b.getvalue()


def tgz(name, data):
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode="w:gz",
                      format=tarfile.USTAR_FORMAT) as t:
        ti = tarfile.TarInfo(name)
        ti.size = len(data)
        ti.mtime = 1577836800
        t.addfile(ti, io.BytesIO(data))
    raw = bytearray(b.getvalue())
    raw[4:8] = b"\0\0\0\0"
    return bytes(raw)


def b64(data):
    return base64.encodebytes(data).decode().replace("\n", "\r\n")


def att(name, ctype, data):
    return ('Content-Type: %s; name="%s"\r\n'
            'Content-Transfer-Encoding: base64\r\n'
            'Content-Disposition: attachment; filename="%s"\r\n'
            % (ctype, name, name), b64(data))


def multipart(idn, subj, parts, boundary="=_vigil_b1"):
    out = HDR.format(id=idn, subj=subj)
    out += 'Content-Type: multipart/mixed; boundary="%s"\r\n\r\n' % boundary
    out += "This is a multi-part message in MIME format.\r\n"
    for ph, body in parts:
        out += "--%s\r\n%s\r\n%s\r\n" % (boundary, ph, body)
    out += "--%s--\r\n" % boundary
    return out


def password_zip(tmp):
    src = os.path.join(tmp, "eicar.com")
    dst = os.path.join(tmp, "enc.zip")
    with open(src, "wb") as f:
        f.write(EICAR)
    os.utime(src, (1577836800, 1577836800))
    subprocess.run(["zip", "-q", "-j", "-X", "-P", "infected", dst, src],
                   check=True)
    with open(dst, "rb") as f:
        return f.read()


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: gen_samples.py OUTDIR")
    out = sys.argv[1]
    db = os.path.join(out, "db")
    md = os.path.join(out, "msg")
    os.makedirs(db, exist_ok=True)
    os.makedirs(md, exist_ok=True)

    with open(os.path.join(db, "vigil-test.ndb"), "w") as f:
        f.write("Vigil.Test.EICAR.NDB:0:*:%s\n" % binascii.hexlify(
            b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE").decode())
        f.write("Vigil.Test.Html.NDB:0:*:%s\n" %
                binascii.hexlify(HTML_MARKER).decode())
        f.write("Vigil.Test.Own.NDB:0:*:%s\n" %
                binascii.hexlify(OWN_MARKER).decode())
    with open(os.path.join(db, "vigil-test.hdb"), "w") as f:
        f.write("%s:%d:Vigil.Test.EICAR.HDB\n" %
                (hashlib.md5(EICAR).hexdigest(), len(EICAR)))
        f.write("%s:%d:Vigil.Test.Blob.HDB\n" %
                (hashlib.md5(BLOB).hexdigest(), len(BLOB)))

    # Phishing: a protected host for ClamAV's link check (PDB).
    with open(os.path.join(db, "vigil-test.pdb"), "w") as f:
        f.write("H:www.bank.example.com\n")

    cases = []
    paths = []

    def w(name, text, expect, path=None):
        with open(os.path.join(md, name), "wb") as f:
            f.write(text.encode() if isinstance(text, str) else text)
        cases.append((name, expect))
        if path is not None:
            paths.append((name, path))

    ev = "virus:Vigil.Test.EICAR."
    w("clean.eml", multipart("clean", "clean control", [TEXT, att(
        "notes.txt", "text/plain", b"nothing to see here\r\n")]), "clean")
    w("eicar-base64.eml", multipart("e1", "eicar base64 attachment", [
        TEXT, att("eicar.com.txt", "application/octet-stream", EICAR)]), ev)
    w("eicar-zip.eml", multipart("e2", "eicar in zip", [TEXT, att(
        "eicar.zip", "application/zip", zbytes([("eicar.txt", EICAR)]))]),
        ev)
    w("eicar-zip-in-zip.eml", multipart("e3", "eicar in zip in zip", [
        TEXT, att("outer.zip", "application/zip", zbytes([(
            "inner.zip", zbytes([("eicar.txt", EICAR)]))]))]), ev)
    w("eicar-targz.eml", multipart("e4", "eicar in tar.gz", [TEXT, att(
        "eicar.tar.gz", "application/gzip", tgz("eicar.txt", EICAR))]), ev)
    w("eicar-inline.eml", HDR.format(id="e5", subj="eicar as the body") +
      "Content-Type: text/plain\r\n\r\n" + EICAR.decode() + "\r\n", ev)
    w("eicar-qp.eml", multipart("e6", "eicar quoted-printable", [TEXT, (
        'Content-Type: application/octet-stream; name="eicar.txt"\r\n'
        'Content-Transfer-Encoding: quoted-printable\r\n'
        'Content-Disposition: attachment; filename="eicar.txt"\r\n',
        quopri.encodestring(EICAR).decode().replace("\n", "\r\n"))]), ev)
    uu = "begin 644 eicar.txt\r\n" + "".join(
        binascii.b2a_uu(EICAR[i:i + 45]).decode().replace("\n", "\r\n")
        for i in range(0, len(EICAR), 45)) + "`\r\nend\r\n"
    w("eicar-uuencode.eml", HDR.format(id="e7", subj="eicar uuencoded") +
      "Content-Type: text/plain\r\n\r\nattached:\r\n\r\n" + uu, ev)
    inner = multipart("e8i", "inner", [TEXT, att(
        "eicar.txt", "application/octet-stream", EICAR)], boundary="=_in")
    w("eicar-rfc822.eml", multipart("e8", "forwarded message with eicar", [
        TEXT, ('Content-Type: message/rfc822\r\n'
               'Content-Disposition: attachment; filename="fwd.eml"\r\n',
               inner)], boundary="=_vigil_outer"), ev)
    enc = base64.b64encode(EICAR).decode()
    w("eicar-broken-mime.eml", HDR.format(id="e9", subj="broken mime") +
      'Content-Type: multipart/mixed; boundary="XYZ"\r\n\r\n--XYZ\r\n'
      'Content-Type: application/octet-stream; name="e.bin"\r\n'
      'Content-Transfer-Encoding: base64\r\n\r\n' + enc[:50] + "\r\n" +
      enc[50:] + "\r\n!!junk!!\r\n", ev)
    w("own-zip.eml", multipart("o1", "own marker in zip", [TEXT, att(
        "data.zip", "application/zip", zbytes([(
            "data.bin", b"prefix " + OWN_MARKER + b" suffix\n")]))]),
        "virus:Vigil.Test.Own.NDB")
    w("blob-hdb.eml", multipart("h1", "blob known by md5", [TEXT, att(
        "blob.bin", "application/octet-stream", BLOB)]),
        "virus:Vigil.Test.Blob.HDB")
    tmp = tempfile.mkdtemp()
    try:
        w("eicar-encrypted-zip.eml", multipart("e10", "password zip", [
            TEXT, att("eicar.zip", "application/zip", password_zip(tmp))]),
            "heuristic:Heuristics.Encrypted.Zip")
    finally:
        shutil.rmtree(tmp)

    w("phish-ssl.eml", HDR.format(id="p1", subj="verify your account") +
      "Content-Type: text/html\r\n\r\n<html><body><p>Please verify:</p>"
      '<a href="http://evil.example.net/login">'
      "https://www.bank.example.com/login</a></body></html>\r\n",
      "heuristic:Heuristics.Phishing.Email.SSL-Spoof")

    # Attachment policy: harmless contents, telling names.
    w("att-double-ext.eml", multipart("a1", "invoice", [TEXT, att(
        "invoice.pdf.exe", "application/octet-stream", b"not a program")]),
        "hit:ATTACH_DOUBLE_EXT")
    w("att-banned-ext.eml", multipart("a2", "tool", [TEXT, att(
        "update.scr", "application/octet-stream", b"not a program")]),
        "hit:ATTACH_BANNED_EXT")
    w("att-banned-type.eml", multipart("a3", "type", [TEXT, att(
        "readme", "application/x-msdownload", b"not a program")]),
        "hit:ATTACH_BANNED_TYPE")
    w("att-zip-banned.eml", multipart("a4", "zipped tool", [TEXT, att(
        "docs.zip", "application/zip", zbytes([
            ("readme.txt", b"read me\n"), ("run.vbs", b"x\n")]))]),
        "hit:ATTACH_ARCHIVE_BANNED")
    w("att-zip-in-zip-double.eml", multipart("a5", "nested", [TEXT, att(
        "outer.zip", "application/zip", zbytes([("inner.zip", zbytes([
            ("invoice.pdf.exe", b"not a program")]))]))]),
        "hit:ATTACH_DOUBLE_EXT")
    w("att-sniffed-exe.eml", multipart("a7", "sniffed", [TEXT, att(
        "photo.dat", "application/octet-stream",
        b"MZ\x90\x00\x03\x00\x00\x00 not a program")]),
        "hit:ATTACH_BANNED_TYPE")
    w("att-blanks-double.eml", multipart("a8", "blanks", [TEXT, att(
        "photo.jpg      .scr", "application/octet-stream", b"x")]),
        "hit:ATTACH_DOUBLE_EXT")
    w("att-trailing-dot.eml", multipart("a9", "dot", [TEXT, att(
        "setup.exe.", "application/octet-stream", b"x")]),
        "hit:ATTACH_BANNED_EXT")
    w("att-text-mz.eml", HDR.format(id="a10", subj="MZ") +
      "Content-Type: text/plain\r\n\r\nMZ Productions sends greetings.\r\n",
      "clean")
    w("att-dotted-clean.eml", multipart("a11", "dotted", [TEXT, att(
        "report.v2.final.pdf", "application/pdf", b"%PDF-1.4 x\n")]),
        "clean")
    w("att-zip-clean.eml", multipart("a6", "report", [TEXT, att(
        "report.zip", "application/zip", zbytes([
            ("report.pdf", b"%PDF-1.4 not really\n")]))]), "clean")

    # AVFastText: plain text mail skips libclamav's mail parser; all
    # else, and anything that parser reads differently, keeps it.
    ov = "virus:Vigil.Test.Own.NDB"
    prose = (b"Hello,\r\nthe figures you asked for follow.\r\n"
             b"ref " + OWN_MARKER + b" end\r\nRegards\r\n")
    def qp(marker):
        return "".join("=%02X" % c if c in b"-AEIOUaeiou" else chr(c)
                       for c in marker)
    qp_marker = qp(OWN_MARKER)
    w("text-clean.eml", HDR.format(id="t0", subj="plain text") +
      "Content-Type: text/plain; charset=us-ascii\r\n\r\n"
      "Just a line of plain text.\r\n", "clean", "fast")
    w("text-7bit.eml", HDR.format(id="t1", subj="marker in 7bit text") +
      "Content-Type: text/plain; charset=us-ascii\r\n\r\n" +
      prose.decode(), ov, "fast")
    w("text-base64.eml", HDR.format(id="t2", subj="marker in base64 text") +
      "Content-Type: text/plain; charset=utf-8\r\n"
      "Content-Transfer-Encoding: base64\r\n\r\n" + b64(prose), ov, "fast")
    w("text-alt-qp.eml", HDR.format(id="t3", subj="marker in qp text") +
      'Content-Type: multipart/alternative; boundary="=_alt"\r\n\r\n'
      "--=_alt\r\nContent-Type: text/plain; charset=utf-8\r\n"
      "Content-Transfer-Encoding: base64\r\n\r\n" +
      b64(b"nothing here\r\n") + "\r\n--=_alt\r\n"
      "Content-Type: text/plain; charset=utf-8\r\n"
      "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
      "ref " + qp_marker[:20] + "=\r\n" + qp_marker[20:] + " end\r\n"
      "--=_alt--\r\n", ov, "fast")
    w("html-qp.eml", HDR.format(id="t4", subj="marker in qp html") +
      "Content-Type: text/html; charset=utf-8\r\n"
      "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
      "<html><body><p>ref " + qp(HTML_MARKER)[:20] + "=\r\n" +
      qp(HTML_MARKER)[20:] + " end</p></body></html>\r\n",
      "virus:Vigil.Test.Html.NDB", "full")
    w("text-att.eml", multipart("t5", "marker in an attachment", [TEXT, att(
        "data.txt", "text/plain", prose)]), ov, "full")
    w("text-defect.eml", HDR.format(id="t6", subj="no closing boundary") +
      'Content-Type: multipart/mixed; boundary="=_d"\r\n\r\n'
      "--=_d\r\nContent-Type: text/plain\r\n"
      "Content-Transfer-Encoding: base64\r\n\r\n" + b64(prose), ov, "full")
    # 950 bytes or so, and 500 more decoded: over AVMaxScanSize=1024.
    w("text-big.eml", HDR.format(id="t8", subj="text near the limit") +
      "Content-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n"
      "\r\n" + b64(prose + b"padding line of the text\r\n" * 16), ov,
      "fast")
    w("text-links.eml", HDR.format(id="t7", subj="html link in plain text") +
      "Content-Type: text/plain\r\n\r\n"
      '<a href="http://www.example.com/">www.example.com</a>\r\n',
      "clean", "full")
    # MIME text GMime leaves alone and libclamav's parser decodes.
    hidden = ("Content-Type: application/octet-stream\r\n"
              "Content-Transfer-Encoding: base64\r\n\r\n" + b64(EICAR))
    w("hide-preamble.eml", HDR.format(id="h1", subj="preamble") +
      'Content-Type: multipart/mixed; boundary="=_p"\r\n\r\n' + hidden +
      "\r\n--=_p\r\nContent-Type: text/plain\r\n\r\nhello\r\n"
      "--=_p--\r\n", ev, "full")
    w("hide-in-text.eml", HDR.format(id="h2", subj="bounce") +
      "Content-Type: text/plain\r\n\r\nsee below\r\n\r\n" + hidden,
      ev, "full")
    w("hide-misspelt.eml", HDR.format(id="h3", subj="base-64") +
      "Content-Type: text/plain\r\n"
      "Content-Transfer-Encoding: base-64\r\n\r\n" + b64(EICAR), ev, "full")
    for name in ("eicar-inline.eml", "att-text-mz.eml"):
        paths.append((name, "fast"))
    for name in ("eicar-uuencode.eml", "eicar-broken-mime.eml",
                 "eicar-base64.eml", "phish-ssl.eml", "clean.eml"):
        paths.append((name, "full"))

    with open(os.path.join(out, "EXPECTED"), "w") as f:
        for name, expect in cases:
            f.write("%s\t%s\n" % (name, expect))
    with open(os.path.join(out, "PATHS"), "w") as f:
        for name, path in paths:
            f.write("%s\t%s\n" % (name, path))


if __name__ == "__main__":
    main()
