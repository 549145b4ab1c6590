-- Run with RejectScore 3.5: the bad message is rejected with 550 5.7.1
-- and the configured text; a clean one on the same connection passes.
dofile(dir .. "/lib.lua")
run(function()
	local conn = open()
	envelope(conn, "<x@example.net>", {"<bob@example.com>"}, bad_headers, "QR")
	must(mt.bodystring(conn, "spam\r\n"), "body")
	must(mt.eom(conn), "eom")
	check(mt.getreply(conn) == SMFIR_REPLYCODE, "spam rejected with a reply code")
	check(mt.eom_check(conn, MT_SMTPREPLY, "550", "5.7.1", "Spam is not welcome here"),
	    "reply is 550 5.7.1 with the configured RejectText")
	envelope(conn, "<alice@example.org>", {"<bob@example.com>"}, good_headers, "QR2")
	must(mt.bodystring(conn, "fine\r\n"), "body")
	must(mt.eom(conn), "eom")
	check(mt.getreply(conn) == SMFIR_ACCEPT, "next message on the connection accepted")
	mt.disconnect(conn)
end)
