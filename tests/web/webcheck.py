#!/usr/bin/env python3
"""webcheck.py - the quarantine page's security over HTTP (http.client):
links forged, edited, expired or for another user; CSRF; origins;
replays; headers; escaping; the admin view.  Links are read from the
digest (vigilctl digest) or made here, independently of vigil's code,
with HMAC-SHA256 under the key derived from the release key as
weblink.h describes.

usage: webcheck.py BASE_URL DIGEST_MBOX KEYFILE ADMIN_USER ADMIN_PASS
    ID_A ID_B ID_C ID_D STATE_OUT
Prints ok/FAIL lines; writes "PASSED FAILED" to STATE_OUT.
"""
import base64, hashlib, hmac, http.client, re, sys, time, urllib.parse

(base, mbox, keyfile, auser, apass, id_a, id_b, id_c, id_d,
 state_out) = sys.argv[1:11]
host = urllib.parse.urlsplit(base)
passed = failed = 0


def check(name, cond, why=""):
    global passed, failed
    if cond:
        passed += 1
        print("ok - " + name)
    else:
        failed += 1
        print("FAIL - %s: %s" % (name, why))


def req(method, path, body=None, headers=None):
    c = http.client.HTTPConnection(host.hostname, host.port, timeout=30)
    h = dict(headers or {})
    if body is not None:
        body = urllib.parse.urlencode(body)
        h["Content-Type"] = "application/x-www-form-urlencoded"
    c.request(method, path, body=body, headers=h)
    r = c.getresponse()
    data = r.read().decode("utf-8", "replace")
    c.close()
    return r.status, r.headers, data


rk = bytes.fromhex(open(keyfile).read().strip())
K = hmac.new(rk, b"vigil-web-link-key-v1", hashlib.sha256).digest()


def link(path, rcpt, qid, expires, key=K):
    msg = b"vigil-web-link-v1\0" + rcpt.lower().encode() + b"\0" + \
        qid.encode() + b"\0" + str(expires).encode()
    mac = hmac.new(key, msg, hashlib.sha256).hexdigest()
    return "%s?%s" % (path, urllib.parse.urlencode(
        {"r": rcpt, "id": qid, "x": expires, "s": mac}))


def rel(url):
    s = urllib.parse.urlsplit(url)
    return s.path + "?" + s.query


digest = open(mbox, encoding="utf-8").read()
alice_digest = digest[digest.find("To: alice@sink.invalid"):]
alice_digest = alice_digest[:alice_digest.find("\nFrom ")] \
    if "\nFrom " in alice_digest else alice_digest
urls = re.findall(r"http://\S+", alice_digest)
list_url = next((rel(u) for u in urls if "/u?" in u), None)
msg_urls = {urllib.parse.parse_qs(urllib.parse.urlsplit(u).query)["id"][0]:
            rel(u) for u in urls if "/m?" in u}
check("the digest for alice has her list link and one link per message of "
      "hers (a, b, d), not bob's (c)",
      list_url is not None and set(msg_urls) == {id_a, id_b, id_d},
      "list=%s msgs=%s" % (list_url, sorted(msg_urls)))
if list_url is None or id_a not in msg_urls:
    open(state_out, "w").write("%d %d\n" % (passed, failed))
    sys.exit(0)
# the links made here match the digest's: the scheme is as documented
x = urllib.parse.parse_qs(urllib.parse.urlsplit(list_url).query)["x"][0]
check("a link made independently (HMAC as documented) equals the digest's",
      link("/u", "alice@sink.invalid", "", x) == list_url,
      "%s vs %s" % (link("/u", "alice@sink.invalid", "", x), list_url))
life = int(x) - int(time.time())
check("digest links expire after WebLinkLifetime (7d)",
      abs(life - 7 * 86400) < 120, "expires in %d s" % life)

# --- headers on every answer
want = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
for path in [list_url, "/", "/style.css", "/nope", link("/u", "x@y", "", 1)]:
    st, h, body = req("GET", path)
    bad = [k for k, v in want.items() if v not in (h.get(k) or "")]
    if "frame-ancestors 'none'" not in (h.get("Content-Security-Policy") or ""):
        bad.append("frame-ancestors")
    if "script-src" in (h.get("Content-Security-Policy") or "") or \
            "<script" in body.lower():
        bad.append("script")
    check("security headers on %s (%d)" % (path.split("?")[0], st), not bad,
          "missing %s in %s" % (bad, dict(h)))

# --- the list: alice's mail only
st, h, body = req("GET", list_url)
check("the list link opens alice's list", st == 200 and "Cheap pills" in body
      and "For both of you" in body, "%d %s" % (st, body[:300]))
check("alice's list does not show bob's mail", "For Bob only" not in body,
      body)
check("alice's list does not show malice's mail (her address holds "
      "alice's)", "For Malice" not in body, body)
check("the subject is escaped in the list",
      "&lt;b&gt;You won&lt;/b&gt; a &quot;prize&quot; &amp; more" in body
      and "<b>You won" not in body, body)

# --- forged, edited, expired, other user
forged = re.sub(r"s=([0-9a-f])", lambda m: "s=" + ("1" if m.group(1) == "0"
                else "0"), list_url)
st, _, _ = req("GET", forged)
check("a forged list link is refused (403)", st == 403, st)
st, _, body = req("GET", list_url.replace("alice%40", "bob%40"))
check("alice's link edited to name bob is refused (403)",
      st == 403 and "For Bob only" not in body, st)
st, _, _ = req("GET", link("/u", "alice@sink.invalid", "", x,
               key=hashlib.sha256(b"not the key").digest()))
check("a link signed with another key is refused (403)", st == 403, st)
st, _, body = req("GET", link("/u", "alice@sink.invalid", "",
                  int(time.time()) - 5))
check("an expired link (properly signed) is refused (410)", st == 410,
      "%d %s" % (st, body[:200]))
st, _, body = req("GET", msg_urls[id_a].replace(id_a, id_c))
check("alice's message link with bob's id is refused (403)",
      st == 403 and "For Bob only" not in body, st)
st, _, body = req("GET", link("/m", "alice@sink.invalid", id_c, x))
check("a validly signed alice link to bob's message is refused (403)",
      st == 403 and "For Bob only" not in body, st)
st, _, body = req("GET", msg_urls[id_a].replace("&id=", "&id=../../etc/"))
check("a link with a path as id is refused", st == 403, st)

# --- the preview: text only, escaped
st, h, body = req("GET", msg_urls[id_a])
cookie = (h.get("Set-Cookie") or "").split(";")[0]
check("the message link shows it (200) and sets a SameSite=Strict, "
      "HttpOnly cookie", st == 200 and cookie.startswith("vw=") and
      "SameSite=Strict" in h.get("Set-Cookie", "") and
      "HttpOnly" in h.get("Set-Cookie", ""), "%d %s" % (st, h))
low = body.lower()
check("the preview holds no markup of the message (script, img, iframe, "
      "link, remote URL as a resource)",
      "<script" not in low and "<img" not in low and "<iframe" not in low
      and "x.css" not in low and 'src="http' not in low, body)
check("the preview shows the text escaped",
      "Claim your prize at &lt;script&gt;alert(&quot;plain&quot;)"
      "&lt;/script&gt; today." in body, body)
csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', body)
csrf = csrf.group(1) if csrf else ""
fields = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(
    msg_urls[id_a]).query))
post = dict(fields, csrf=csrf)
same = {"Origin": base, "Cookie": cookie}

# --- CSRF and origins
st, _, _ = req("POST", "/m/release", post, {"Origin": base})
check("a release without the cookie is refused (403)", st == 403, st)
st, _, _ = req("POST", "/m/release", dict(fields, csrf="0" * 64), same)
check("a release with a wrong CSRF token is refused (403)", st == 403, st)
st, _, _ = req("POST", "/m/release", dict(fields), same)
check("a release without a CSRF token is refused (403)", st == 403, st)
st, _, _ = req("POST", "/m/release", post,
               {"Origin": "http://evil.example", "Cookie": cookie})
check("a release posted from another origin is refused (403)", st == 403, st)
st, _, _ = req("POST", "/m/release", post,
               {"Sec-Fetch-Site": "cross-site", "Cookie": cookie})
check("a release with Sec-Fetch-Site: cross-site is refused (403)",
      st == 403, st)
st, _, _ = req("POST", "/m/release", post,
               {"Origin": "null", "Sec-Fetch-Site": "cross-site",
                "Cookie": cookie})
check("a release with Origin: null from another site is refused (403)",
      st == 403, st)
st, _, _ = req("POST", "/m/release", post,
               {"Origin": base, "Cookie": "vw=" + "a" * 32})
check("a release with another browser's cookie is refused (403)",
      st == 403, st)
st, _, _ = req("POST", "/m/release", dict(post, r="bob@sink.invalid"), same)
check("a release with the form edited to bob is refused (403)", st == 403, st)
st, _, _ = req("GET", "/m/release?" + urllib.parse.urlencode(post),
               {"Cookie": cookie})
check("a release by GET does nothing (404)", st == 404, st)

# --- release, then replays
st, _, body = req("POST", "/m/release", post, same)
check("the release from alice's page succeeds (200)",
      st == 200 and "Released" in body, "%d %s" % (st, body[:300]))
st, _, body = req("POST", "/m/release", post, same)
check("the same release replayed is refused (410)", st == 410, st)
st, _, _ = req("GET", msg_urls[id_a])
check("the message link after use is refused (410)", st == 410, st)
st, _, body = req("GET", list_url)
check("the released message leaves alice's list",
      st == 200 and "You won" not in body, body)

# --- delete: hers alone, not a shared one
st, h, body = req("GET", msg_urls[id_b], headers={"Cookie": cookie})
c2 = re.search(r'name="csrf" value="([0-9a-f]+)"', body)
fb = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(msg_urls[id_b]).query))
st, _, body = req("POST", "/m/delete", dict(fb, csrf=c2.group(1) if c2
                  else ""), same)
check("alice deletes her own message (200)", st == 200 and "Deleted" in body,
      "%d %s" % (st, body[:200]))
st, _, _ = req("GET", msg_urls[id_b])
check("a deleted message's link answers 404", st == 404, st)
st, _, body = req("GET", msg_urls[id_d], headers={"Cookie": cookie})
check("a message to alice and bob offers no delete",
      st == 200 and "/m/delete" not in body, body)
c3 = re.search(r'name="csrf" value="([0-9a-f]+)"', body)
fd = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(msg_urls[id_d]).query))
st, _, _ = req("POST", "/m/delete", dict(fd, csrf=c3.group(1) if c3 else ""),
               same)
check("deleting a message shared with bob is refused (403)", st == 403, st)

# --- admin
st, h, _ = req("GET", "/admin")
check("the admin view asks for a password (401, Basic)",
      st == 401 and "Basic" in (h.get("WWW-Authenticate") or ""), st)
bad = base64.b64encode(("%s:wrong" % auser).encode()).decode()
st, _, _ = req("GET", "/admin", headers={"Authorization": "Basic " + bad})
check("a wrong admin password is refused (401)", st == 401, st)
good = {"Authorization": "Basic " +
        base64.b64encode(("%s:%s" % (auser, apass)).encode()).decode()}
st, h, body = req("GET", "/admin", headers=good)
check("the admin sees every entry", st == 200 and "For Bob only" in body
      and "For both of you" in body and "You won" in body, body[:500])
st, _, body = req("GET", "/admin?rcpt=bob%40", headers=good)
check("the admin's recipient filter", st == 200 and "For Bob only" in body
      and "You won" not in body, body[:500])
st, _, body = req("GET", "/admin?min_score=1000", headers=good)
check("the admin's score filter", st == 200 and "0 entries" in body,
      body[:500])


# the other filters of `vigilctl quarantine list`: sender, reason, since
def entries(path):
    st, _, body = req("GET", path, headers=good)
    m = re.search(r"<p>(\d+) entries\.</p>", body)
    return (int(m.group(1)) if st == 200 and m else None), body


total, body = entries("/admin")
reasons = re.findall(r"</td><td>[0-9.-]+</td><td>([a-z]+)</td><td>", body)
some = reasons[0] if reasons else "none"
got = [entries("/admin?sender=spammer%40bad.example")[0],
       entries("/admin?sender=nobody%40else.example")[0]]
check("the admin's sender filter", total and got == [total, 0],
      "%s of %s" % (got, total))
got = [entries("/admin?reason=" + some)[0],
       entries("/admin?reason=virus")[0]]
check("the admin's reason filter", len(reasons) == total and
      "virus" not in reasons and got == [reasons.count(some), 0],
      "%s for %s of %s" % (got, some, reasons))
got = [entries("/admin?since=1d")[0], entries("/admin?since=2099-01-01")[0],
       req("GET", "/admin?since=yesterday", headers=good)[0]]
check("the admin's since filter (a bad one: 400)", got == [total, 0, 400],
      "%s of %s" % (got, total))
st, h, body = req("GET", "/admin/m?id=" + id_c, headers=good)
ac = (h.get("Set-Cookie") or "").split(";")[0]
m = re.search(r'action="/admin/release">.*?name="csrf" value="([0-9a-f]+)"',
              body)
st2, _, _ = req("POST", "/admin/release", {"id": id_c, "csrf": "0" * 64},
                dict(good, Origin=base, Cookie=ac))
check("an admin release with a wrong CSRF token is refused (403)",
      st2 == 403, st2)
st2, _, _ = req("POST", "/admin/release",
                {"id": id_c, "csrf": m.group(1) if m else ""},
                {"Origin": base, "Cookie": ac})
check("an admin release without the password is refused (401)",
      st2 == 401, st2)
st2, _, body = req("POST", "/admin/release",
                   {"id": id_c, "csrf": m.group(1) if m else ""},
                   dict(good, Origin=base, Cookie=ac))
check("the admin releases bob's message (200)", st2 == 200, "%d %s" %
      (st2, body[:300]))

open(state_out, "w").write("%d %d\n" % (passed, failed))
