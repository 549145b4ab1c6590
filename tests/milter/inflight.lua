-- A message still in its body when the daemon gets SIGTERM: the
-- connection stays up, the rest of the body goes through, and the
-- message ends with a verdict (accept or try again later), never a
-- dropped connection.  `pid` (the supervisor) and `log` (its log)
-- come from run.sh.
dofile(dir .. "/lib.lua")

-- How often the daemon's log (`log`, from run.sh) says it is stopping
-- with one message in flight.
local function stops_logged()
	local f = io.open(log, "r")
	if f == nil then
		return 0
	end
	local text = f:read("*a")
	f:close()
	local n = 0
	for _ in text:gmatch("stopping: 1 message in flight") do
		n = n + 1
	end
	return n
end
run(function()
	local conn = open()
	envelope(conn, "<alice@example.org>", {"<bob@example.com>"},
	    good_headers, "QFLIGHT")
	must(mt.bodystring(conn, "the first half of the body\r\n"), "body 1")
	local before = stops_logged()
	os.execute("kill -TERM " .. pid)
	-- The rest of the message goes once the worker has taken the stop
	-- with this message in flight (it logs it), 15 s at most.
	local waited = 0
	while stops_logged() == before and waited < 15 do
		mt.sleep(0.05)
		waited = waited + 0.05
	end
	check(stops_logged() > before,
	    "the worker took the stop with the message in flight")
	must(mt.bodystring(conn, "the second half, after SIGTERM\r\n"), "body 2")
	must(mt.eom(conn), "eom")
	local r = mt.getreply(conn)
	check(r == SMFIR_ACCEPT or r == SMFIR_TEMPFAIL or r == SMFIR_CONTINUE,
	    "a message in its body at SIGTERM ends with a verdict (" ..
	    tostring(r) .. ")")
	mt.disconnect(conn)
end)
