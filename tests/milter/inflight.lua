-- A message still in its body when the daemon gets SIGTERM: the
-- connection stays up, the rest of the body goes through, and the
-- message ends with a verdict (accept or try again later), never a
-- dropped connection.  `pid` (the supervisor) comes from run.sh.
dofile(dir .. "/lib.lua")
run(function()
	local conn = open()
	envelope(conn, "<alice@example.org>", {"<bob@example.com>"},
	    good_headers, "QFLIGHT")
	must(mt.bodystring(conn, "the first half of the body\r\n"), "body 1")
	os.execute("kill -TERM " .. pid)
	-- Let the signal arrive before the rest of the message does.
	mt.sleep(0.5)
	must(mt.bodystring(conn, "the second half, after SIGTERM\r\n"), "body 2")
	must(mt.eom(conn), "eom")
	local r = mt.getreply(conn)
	check(r == SMFIR_ACCEPT or r == SMFIR_TEMPFAIL or r == SMFIR_CONTINUE,
	    "a message in its body at SIGTERM ends with a verdict (" ..
	    tostring(r) .. ")")
	mt.disconnect(conn)
end)
