#!/usr/bin/env python3
"""hostile_gen.py - writes one message of each hostile class of issue 15
into DIR, as CLASS.eml, and prints the class names, one a line:

  bomb-tgz, bomb-tbz2, bomb-txz, bomb-zip   one member of MB megabytes of
      zeros (default 400) in a few hundred KB: the compressed streams of a
      megabyte are repeated, as gzip, bzip2 and xz allow (concatenated
      members), so writing them costs nothing
  nested          a zip named photo.jpg holding a tar named notes.txt
                  holding run.exe: archives under innocent names
  dkim10k         10,000 DKIM-Signature fields
  headers100k     100,000 short header fields
  folded1m        1 MB of folded continuation lines, over 25 fields
  mime1000        multiparts nested 1,000 deep
  base64line      a 4 MB attachment whose base64 is one line
  forged-ar       Authentication-Results naming AUTHSERV after a comment,
                  quoted, and behind 200 decoys of other ids

    hostile_gen.py DIR AUTHSERV [MB]
"""
import base64
import bz2
import io
import lzma
import os
import sys
import tarfile
import zipfile
import zlib

HEAD = ("From: Mallory <mallory@example.org>\r\n"
        "To: Bob <rcpt@sink.invalid>\r\n"
        "Date: Mon, 07 Dec 2026 02:00:00 +0000\r\n")


def message(name, extra_headers, body, ctype="text/plain"):
    return (HEAD + "Subject: hostile %s\r\n" % name +
            "Message-ID: <hostile-%s@example.org>\r\n" % name +
            extra_headers + "MIME-Version: 1.0\r\n" +
            "Content-Type: %s\r\n\r\n" % ctype + body)


def b64(data, width=76):
    s = base64.b64encode(data).decode()
    if width == 0:
        return s + "\r\n"
    return "".join(s[i:i + width] + "\r\n" for i in range(0, len(s), width))


def attach(name, label, data, ctype="application/octet-stream", width=76):
    return message(name, "", "--b\r\nContent-Type: text/plain\r\n\r\n"
                   "see the attachment\r\n--b\r\n"
                   "Content-Type: %s; name=\"%s\"\r\n" % (ctype, label) +
                   "Content-Disposition: attachment; filename=\"%s\"\r\n" % label +
                   "Content-Transfer-Encoding: base64\r\n\r\n" +
                   b64(data, width) + "--b--\r\n",
                   "multipart/mixed; boundary=\"b\"")


def tar_bomb(mb, compress):
    """A tar of one member of mb MB zeros, as concatenated streams."""
    info = tarfile.TarInfo("data.bin")
    info.size = mb << 20
    head = info.tobuf(format=tarfile.USTAR_FORMAT)
    mega = bytes(1 << 20)
    one = compress(mega)
    return compress(head) + one * mb + compress(bytes(1024))


def zip_bomb(mb):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        with z.open("data.bin", "w", force_zip64=True) as f:
            mega = bytes(1 << 20)
            for _ in range(mb):
                f.write(mega)
    return out.getvalue()


def gz(d):
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    return c.compress(d) + c.flush()


def main():
    out, authserv = sys.argv[1], sys.argv[2]
    mb = int(sys.argv[3]) if len(sys.argv) > 3 else 400
    msgs = {}
    msgs["bomb-tgz"] = attach("bomb-tgz", "data.tgz", tar_bomb(mb, gz))
    msgs["bomb-tbz2"] = attach("bomb-tbz2", "data.tar.bz2",
                               tar_bomb(mb, bz2.compress))
    msgs["bomb-txz"] = attach("bomb-txz", "data.txz",
                              tar_bomb(mb, lzma.compress))
    msgs["bomb-zip"] = attach("bomb-zip", "data.zip", zip_bomb(mb))

    inner = io.BytesIO()
    with tarfile.open(fileobj=inner, mode="w") as t:
        payload = b"MZ" + bytes(510)
        ti = tarfile.TarInfo("run.exe")
        ti.size = len(payload)
        t.addfile(ti, io.BytesIO(payload))
    outer = io.BytesIO()
    with zipfile.ZipFile(outer, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("notes.txt", inner.getvalue())
    msgs["nested"] = attach("nested", "photo.jpg", outer.getvalue(),
                            "image/jpeg")

    sig = ("DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; "
           "d=example%d.org; s=sel%d; h=from:to:subject:date; "
           "bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; "
           "b=dGhpcyBpcyBub3QgYSByZWFsIHNpZ25hdHVyZQ==\r\n")
    msgs["dkim10k"] = message("dkim10k", "".join(sig % (i, i)
                              for i in range(10000)), "hello\r\n")
    msgs["headers100k"] = message("headers100k", "".join(
        "X-H%d: %d\r\n" % (i % 50, i) for i in range(100000)), "hello\r\n")
    fold = "".join(" x%d\r\n" % i for i in range(5000))	# ~40 KB a field
    msgs["folded1m"] = message("folded1m", "".join(
        "X-Folded-%d:\r\n%s" % (i, fold) for i in range(25)), "hello\r\n")

    depth = 1000
    body = []
    for i in range(depth):
        body.append("--n%d\r\nContent-Type: multipart/mixed; "
                    "boundary=\"n%d\"\r\n\r\n" % (i, i + 1))
    body.append("--n%d\r\nContent-Type: text/plain\r\n\r\ndeep\r\n" % depth)
    for i in range(depth, -1, -1):
        body.append("--n%d--\r\n" % i)
    msgs["mime1000"] = message("mime1000", "", "".join(body),
                               "multipart/mixed; boundary=\"n0\"")
    msgs["base64line"] = attach("base64line", "blob.bin",
                                os.urandom(3 << 20), width=0)

    decoys = "".join("Authentication-Results: decoy%d.example.net; "
                     "spf=pass smtp.mailfrom=d%d@example.org\r\n" % (i, i)
                     for i in range(200))
    forged = ("Authentication-Results: (trusted) %s; dmarc=pass "
              "header.from=FORGEDMARK1.example\r\n"
              "Authentication-Results: \"%s\"; dkim=pass "
              "header.d=FORGEDMARK2.example\r\n"
              "Authentication-Results: (a (nested) comment) \"%s\" ; "
              "spf=pass smtp.mailfrom=FORGEDMARK3@example.org\r\n"
              % (authserv, authserv, authserv))
    msgs["forged-ar"] = message("forged-ar", decoys + forged + decoys,
                                "hello\r\n")

    for name, text in msgs.items():
        with open(os.path.join(out, name + ".eml"), "w") as f:
            f.write(text)
        print(name)


main()
