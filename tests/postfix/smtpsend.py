#!/usr/bin/env python3
"""smtpsend.py - the test sender: one SMTP session per message, with a
given envelope, optionally presented as an internet client through Postfix
XCLIENT, and one result line per message on stdout (tab-separated):

    id  file  stage  code  queue_id  reply_text

`id` is the unique id written into the message as its first header
(`X-Harness-Id: ID`) so a delivered copy can be matched to what was sent;
`stage` is where the final reply came (connect, ehlo, xclient, mail, rcpt,
data, eom); `code` is that reply's code (0: connection error); `queue_id`
is Postfix's queue id from "250 ... queued as ID" (or "-").

    smtpsend.py --port P [--host H] [--from A] [--rcpt A]... [--helo N]
                [--xclient ADDR|auto] [--id-prefix P] [-n N] [-c C]
                [--timeout S] [--deadline S] [--no-id] [--manifest F] FILE...

Messages are sent N times in turn (N defaults to the number of files), by
C concurrent clients.  Bounded: per-socket timeout, overall deadline (no
new message starts after it).  Exit status 0 when every message got a
reply (whatever its code), 1 when some could not be sent at all.
Only loopback hosts are allowed.
"""
import argparse
import ipaddress
import re
import socket
import sys
import threading
import time


def to_wire(raw, hdr):
	"""CRLF line ends, dot-stuffed, terminated; hdr (bytes) prepended."""
	lines = raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n")
	if lines and lines[-1] == b"":
		lines.pop()
	if hdr:
		lines.insert(0, hdr)
	out = [(b"." + l) if l.startswith(b".") else l for l in lines]
	return b"\r\n".join(out) + b"\r\n.\r\n"


class Session:
	def __init__(self, host, port, timeout):
		self.s = socket.create_connection((host, port), timeout=timeout)
		self.buf = b""

	def reply(self):
		lines = []
		while True:
			while b"\r\n" not in self.buf:
				d = self.s.recv(65536)
				if not d:
					raise ConnectionError("connection closed by server")
				self.buf += d
			line, self.buf = self.buf.split(b"\r\n", 1)
			lines.append(line)
			if len(line) < 4 or line[3:4] != b"-":
				break
		code = int(lines[-1][:3])
		return code, " ".join(l[4:].decode("latin-1") for l in lines)

	def cmd(self, line):
		self.s.sendall(line + b"\r\n")
		return self.reply()

	def close(self):
		try:
			self.s.close()
		except OSError:
			pass


def send_one(a, wire, xclient):
	"""Returns (stage, code, text)."""
	sess = None
	stage = "connect"
	try:
		sess = Session(a.host, a.port, a.timeout)
		code, text = sess.reply()
		if code >= 400:
			return stage, code, text
		stage = "ehlo"
		code, text = sess.cmd(b"EHLO " + a.helo.encode())
		if code >= 400:
			return stage, code, text
		if xclient:
			stage = "xclient"
			code, text = sess.cmd(b"XCLIENT ADDR=" + xclient.encode() +
			    b" NAME=[UNAVAILABLE] PROTO=ESMTP HELO=" + a.helo.encode())
			if code >= 400:
				return stage, code, text
			stage = "ehlo"
			code, text = sess.cmd(b"EHLO " + a.helo.encode())
			if code >= 400:
				return stage, code, text
		stage = "mail"
		code, text = sess.cmd(b"MAIL FROM:<" + a.mfrom.encode() + b">")
		if code >= 400:
			return stage, code, text
		stage = "rcpt"
		ok = 0
		for r in a.rcpt:
			code, text = sess.cmd(b"RCPT TO:<" + r.encode() + b">")
			if code < 400:
				ok += 1
			last = (code, text)
		if ok == 0:
			return stage, last[0], last[1]
		stage = "data"
		code, text = sess.cmd(b"DATA")
		if code >= 400:
			return stage, code, text
		stage = "eom"
		sess.s.sendall(wire)
		code, text = sess.reply()
		try:
			sess.s.sendall(b"QUIT\r\n")
		except OSError:
			pass
		return stage, code, text
	except (OSError, ConnectionError, ValueError) as e:
		return stage, 0, "%s: %s" % (type(e).__name__, e)
	finally:
		if sess:
			sess.close()


def main():
	ap = argparse.ArgumentParser(description=__doc__,
	    formatter_class=argparse.RawDescriptionHelpFormatter)
	ap.add_argument("--host", default="127.0.0.1")
	ap.add_argument("--port", type=int, required=True)
	ap.add_argument("--from", dest="mfrom", default="sender@example.org")
	ap.add_argument("--rcpt", action="append")
	ap.add_argument("--helo", default="client.example.org")
	ap.add_argument("--xclient", help="ADDR, or 'auto' for 192.0.2.k/198.51.100.k by message")
	ap.add_argument("--id-prefix", default="m")
	ap.add_argument("--no-id", action="store_true", help="send the files unchanged")
	ap.add_argument("-n", type=int)
	ap.add_argument("-c", type=int, default=1)
	ap.add_argument("--timeout", type=float, default=60.0)
	ap.add_argument("--deadline", type=float, default=1800.0)
	ap.add_argument("--manifest", help="file with one message path a line (added to FILE...)")
	ap.add_argument("files", nargs="*")
	a = ap.parse_args()
	if not ipaddress.ip_address(socket.gethostbyname(a.host)).is_loopback:
		sys.exit("smtpsend: only loopback hosts: %s" % a.host)
	a.rcpt = a.rcpt or ["rcpt@sink.invalid"]
	if a.manifest:
		with open(a.manifest) as fh:
			a.files += [l.strip() for l in fh if l.strip()]
	if not a.files:
		sys.exit("smtpsend: no messages")
	n = a.n if a.n is not None else len(a.files)
	if n < 1 or a.c < 1 or a.c > 256:
		sys.exit("smtpsend: need -n >= 1 and 1 <= -c <= 256")
	raws = []
	for f in a.files:
		with open(f, "rb") as fh:
			raws.append(fh.read())

	lock = threading.Lock()
	nxt = [0]
	res = [None] * n
	stop_at = time.monotonic() + a.deadline

	def worker():
		while True:
			with lock:
				i = nxt[0]
				if i >= n or time.monotonic() > stop_at:
					return
				nxt[0] += 1
			k = i % len(raws)
			mid = "%s-%d" % (a.id_prefix, i)
			hdr = None if a.no_id else b"X-Harness-Id: " + mid.encode()
			xc = a.xclient
			if xc == "auto":
				xc = "%s.%d" % (("192.0.2", "198.51.100")[i % 2], 1 + i % 254)
			wire = to_wire(raws[k], hdr)
			ts = time.monotonic()
			stage, code, text = send_one(a, wire, xc)
			ts = time.monotonic() - ts
			m = re.search(r"queued as ([0-9A-Za-z]+)", text) if code == 250 else None
			res[i] = (mid, a.files[k], stage, code, m.group(1) if m else "-",
			    text.replace("\t", " ")[:300], ts)

	ths = [threading.Thread(target=worker, daemon=True) for _ in range(a.c)]
	t0 = time.monotonic()
	for t in ths:
		t.start()
	for t in ths:
		t.join(a.deadline + a.timeout * 8 + 10)
	el = max(time.monotonic() - t0, 1e-6)
	lat = sorted(r[6] for r in res if r is not None)
	if len(lat) >= 10:
		print("smtpsend: %d messages in %.1f s, %.1f msg/s, latency p50 %.0f ms "
		    "p99 %.0f ms" % (len(lat), el, len(lat) / el,
		    1000 * lat[len(lat) // 2], 1000 * lat[min(len(lat) - 1,
		    int(len(lat) * 0.99))]), file=sys.stderr)
	bad = 0
	for i, r in enumerate(res):
		if r is None:
			r = ("%s-%d" % (a.id_prefix, i), a.files[i % len(raws)],
			    "unsent", 0, "-", "deadline passed before this message", 0)
			bad += 1
		elif r[3] == 0:
			bad += 1
		print("%s\t%s\t%s\t%d\t%s\t%s" % r[:6])
	sys.stdout.flush()
	return 1 if bad else 0


if __name__ == "__main__":
	sys.exit(main())
