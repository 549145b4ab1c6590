-- Run with a spool that must spill into a folder that does not exist:
-- the message cannot be kept, so it is tempfailed, never accepted
-- unscanned or dropped.
dofile(dir .. "/lib.lua")
run(function()
	local conn = open()
	envelope(conn, "<alice@example.org>", {"<bob@example.com>"}, good_headers, "QT")
	must(mt.bodystring(conn, string.rep("0123456789abcdef", 1024) .. "\r\n"), "body")
	must(mt.eom(conn), "eom")
	check(mt.getreply(conn) == SMFIR_TEMPFAIL or mt.getreply(conn) == SMFIR_REPLYCODE,
	    "spool failure tempfails")
	mt.disconnect(conn)
end)
