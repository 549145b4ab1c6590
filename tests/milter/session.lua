-- Several messages on one connection, an abort mid-message, an empty
-- body and 8-bit data: each message gets its own verdict.
dofile(dir .. "/lib.lua")
run(function()
	local conn = open()
	-- 1: a clean message
	envelope(conn, "<alice@example.org>", {"<bob@example.com>"}, good_headers, "Q1")
	must(mt.bodystring(conn, "hello\r\n"), "body")
	must(mt.eom(conn), "eom")
	check(mt.getreply(conn) == SMFIR_ACCEPT, "clean message accepted")
	check(mt.eom_check(conn, MT_HDRADD, "X-Spam-Status"), "clean message gets X-Spam-Status")
	check(not mt.eom_check(conn, MT_HDRADD, "X-Spam-Flag"), "clean message has no X-Spam-Flag")
	-- 2: aborted after part of the body
	envelope(conn, "<alice@example.org>", {"<bob@example.com>"}, good_headers, "Q2")
	must(mt.bodystring(conn, "half a bo"), "body")
	must(mt.abort(conn), "abort")
	-- 3: tagged (the test config tags at 3), empty body, two recipients
	envelope(conn, "<>", {"<bob@example.com>", "<carol@example.com>"}, bad_headers, "Q3")
	must(mt.eom(conn), "eom")
	check(mt.getreply(conn) == SMFIR_ACCEPT, "empty-body spam accepted and tagged")
	check(mt.eom_check(conn, MT_HDRADD, "X-Spam-Flag", hv(conn, "YES")), "X-Spam-Flag: YES added")
	check(mt.eom_check(conn, MT_HDRADD, "X-Spam-Score", hv(conn, "3.9")), "X-Spam-Score 3.9")
	local st = mt.getheader(conn, "X-Spam-Status", 0) or ""
	check(st == hv(conn, "Yes, score=3.9 required=3.0 version=" ..
	    (st:match("version=(%x+) ") or "?") ..
	    " tests=FROM_MALFORMED,MISSING_DATE,MISSING_MID"),
	    "X-Spam-Status lists the tests [" .. st .. "]")
	check(st:match(" version=%x%x%x%x%x%x%x%x tests=") ~= nil,
	    "X-Spam-Status carries an 8-digit version before tests=")
	check(mt.eom_check(conn, MT_HDRCHANGE, "Subject", hv(conn, "[SPAM] hello")),
	    "subject rewritten")
	-- 4: 8-bit headers and body
	envelope(conn, "<j@example.org>", {"<bob@example.com>"}, {
		{"From", "J\195\188rgen <j@example.org>"},
		{"Subject", "Gr\252\223e \255\254"},
		{"Date", "Tue, 24 Nov 2026 10:15:00 +0100"},
		{"Message-ID", "<m4@example.org>"},
	}, "Q4")
	must(mt.bodystring(conn, "8-bit \200\201\255 body, NUL\0 inside\r\n"), "body")
	must(mt.eom(conn), "eom")
	check(mt.getreply(conn) == SMFIR_ACCEPT, "8-bit message accepted")
	check(mt.eom_check(conn, MT_HDRADD, "X-Spam-Status"), "8-bit message gets a verdict")
	mt.disconnect(conn)
end)
