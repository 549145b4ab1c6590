-- Incoming headers that look like ours are removed (changed to nothing,
-- not rewritten); other Authentication-Results (another authserv-id) are
-- kept: a second message carries only those, and nothing of it changes.
dofile(dir .. "/lib.lua")
run(function()
	local conn = open()
	local h = {}
	for _, x in ipairs(good_headers) do table.insert(h, x) end
	table.insert(h, {"X-Spam-Status", "No, score=-100.0 required=5.0 tests=ALL_TRUSTED"})
	table.insert(h, {"X-Spam-Flag", "NO"})
	table.insert(h, {"X-Spam-Status", "No, second copy"})
	table.insert(h, {"Authentication-Results", "mx.vigil.test; spf=pass smtp.mailfrom=example.org"})
	table.insert(h, {"Authentication-Results", "other.example.net; spf=fail"})
	table.insert(h, {"X-Virus-Status", "Clean"})
	envelope(conn, "<alice@example.org>", {"<bob@example.com>"}, h, "QF")
	must(mt.bodystring(conn, "trust me\r\n"), "body")
	must(mt.eom(conn), "eom")
	check(mt.getreply(conn) == SMFIR_ACCEPT, "accepted")
	-- (a change to the empty value is libmilter's deletion)
	check(mt.eom_check(conn, MT_HDRCHANGE, "X-Spam-Status", ""), "forged X-Spam-Status removed")
	check(mt.eom_check(conn, MT_HDRCHANGE, "X-Spam-Flag", ""), "forged X-Spam-Flag removed")
	check(mt.eom_check(conn, MT_HDRCHANGE, "Authentication-Results", ""),
	    "Authentication-Results naming our authserv-id removed")
	check(mt.eom_check(conn, MT_HDRCHANGE, "X-Virus-Status", ""), "forged X-Virus-Status removed")
	check(not mt.eom_check(conn, MT_HDRCHANGE, "Subject") and
	    not mt.eom_check(conn, MT_HDRCHANGE, "From"), "other headers left alone")
	check(mt.eom_check(conn, MT_HDRADD, "X-Spam-Status"), "our own X-Spam-Status added")

	-- Another host's results, one of them with our id as a prefix only.
	h = {}
	for _, x in ipairs(good_headers) do table.insert(h, x) end
	table.insert(h, {"Authentication-Results", "other.example.net; spf=fail"})
	table.insert(h, {"Authentication-Results", "mx.vigil.test.example.net; spf=pass"})
	envelope(conn, "<alice@example.org>", {"<bob@example.com>"}, h, "QF2")
	must(mt.bodystring(conn, "trust me\r\n"), "body")
	must(mt.eom(conn), "eom")
	check(mt.getreply(conn) == SMFIR_ACCEPT, "second message accepted")
	check(not mt.eom_check(conn, MT_HDRCHANGE), "Authentication-Results of other authserv-ids kept")
	mt.disconnect(conn)
end)
