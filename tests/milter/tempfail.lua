-- Run with a spool that must spill into a folder that does not exist:
-- the message cannot be kept, so it is tempfailed, never accepted
-- unscanned or dropped.
dofile(dir .. "/lib.lua")
run(function()
	local conn = open()
	envelope(conn, "<alice@example.org>", {"<bob@example.com>"}, good_headers, "QT")
	must(mt.bodystring(conn, string.rep("0123456789abcdef", 1024) .. "\r\n"), "body")
	must(mt.eom(conn), "eom")
	-- A reply code is a tempfail only when it is 4xx: 451 4.7.1, as for
	-- any check that fails under OnError tempfail.  (miltertest matches
	-- a reply only when given code, enhanced code and text.)
	check(mt.getreply(conn) == SMFIR_REPLYCODE and
	    mt.eom_check(conn, MT_SMTPREPLY, "451", "4.7.1",
	    "spool check failed, try again later"),
	    "spool failure tempfails with 451 4.7.1")
	mt.disconnect(conn)
end)
