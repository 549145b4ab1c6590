-- Forged copies of our headers are removed however many come before
-- them, and an Authentication-Results names our authserv-id however RFC
-- 8601 lets it be written (after a comment, quoted); one of another
-- authserv-id stays, even with ours in a comment.
dofile(dir .. "/lib.lua")

-- Sends good_headers plus extra, a small body; returns after eom.
local function send(conn, extra, qid)
	local h = {}
	for _, x in ipairs(good_headers) do table.insert(h, x) end
	for _, x in ipairs(extra) do table.insert(h, x) end
	envelope(conn, "<alice@example.org>", {"<bob@example.com>"}, h, qid)
	must(mt.bodystring(conn, "trust me\r\n"), "body")
	must(mt.eom(conn), "eom")
	check(mt.getreply(conn) == SMFIR_ACCEPT, qid .. " accepted")
end

run(function()
	local conn = open()
	-- 1: 64 junk X-Spam-* fields first (the old record held 64).
	local h = {}
	for i = 1, 64 do table.insert(h, {"X-Spam-Junk" .. i, "x"}) end
	table.insert(h, {"Authentication-Results", "mx.vigil.test; dmarc=pass header.from=example.org"})
	table.insert(h, {"X-Vigil-Scan", "clean"})
	send(conn, h, "QM1")
	check(mt.eom_check(conn, MT_HDRCHANGE, "X-Spam-Junk64"), "64th junk field removed")
	check(mt.eom_check(conn, MT_HDRCHANGE, "Authentication-Results"),
	    "forged Authentication-Results after 64 junk fields removed")
	check(mt.eom_check(conn, MT_HDRCHANGE, "X-Vigil-Scan"),
	    "forged X-Vigil-Scan after 64 junk fields removed")
	-- 2: the authserv-id after a comment.
	send(conn, {{"Authentication-Results",
	    "(trusted relay) mx.vigil.test; dmarc=pass header.from=example.org"}}, "QM2")
	check(mt.eom_check(conn, MT_HDRCHANGE, "Authentication-Results"),
	    "Authentication-Results with a comment before our id removed")
	-- 3: the authserv-id as a quoted-string.
	send(conn, {{"Authentication-Results",
	    "\"MX.vigil.test\"; dmarc=pass header.from=example.org"}}, "QM3")
	check(mt.eom_check(conn, MT_HDRCHANGE, "Authentication-Results"),
	    "Authentication-Results with our id quoted removed")
	-- 4: another authserv-id, ours only in a comment: kept.
	send(conn, {{"Authentication-Results",
	    "(mx.vigil.test) other.example.net; spf=fail"}}, "QM4")
	check(not mt.eom_check(conn, MT_HDRCHANGE, "Authentication-Results"),
	    "Authentication-Results of another authserv-id kept")
	-- 5: past MaxHeaderCount (1000): not examined, but still removed.
	h = {}
	for i = 1, 1000 do table.insert(h, {"X-Junk", "x"}) end
	table.insert(h, {"X-Spam-Status", "No, score=-100.0"})
	send(conn, h, "QM5")
	check(mt.eom_check(conn, MT_HDRCHANGE, "X-Spam-Status"),
	    "forged X-Spam-Status past MaxHeaderCount removed")
	mt.disconnect(conn)
end)
