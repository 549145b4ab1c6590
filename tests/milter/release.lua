-- A released copy (the file msg, as vigilctl's release handed it to the
-- sendmail command, to rcpt, a comma-separated list) sent through the filter.  actions: what the
-- MTA lets the filter do (nil: everything); want: "accept" or
-- "tempfail".  Without SMFIF_ADDHDRS and SMFIF_CHGHDRS the filter cannot
-- add its headers or remove the token, and tempfails the copy.
dofile(dir .. "/lib.lua")
run(function()
	local f = assert(io.open(msg, "r"))
	local text = f:read("*a")
	f:close()
	local conn = mt.connect(sock, 40, 0.25)
	if conn == nil then error("cannot connect to " .. sock) end
	if actions ~= nil and actions ~= "" then
		-- (miltertest takes version, steps, actions, in that order; see lib.lua)
		must(mt.negotiate(conn, nil, nil, tonumber(actions)), "negotiate")
	end
	must(mt.conninfo(conn, "localhost", "127.0.0.1"), "conninfo")
	must(mt.helo(conn, "localhost"), "helo")
	mt.macro(conn, SMFIC_MAIL, "i", "QREL")
	must(mt.mailfrom(conn, "<x@bad.example>"), "mailfrom")
	for r in rcpt:gmatch("[^,]+") do
		must(mt.rcptto(conn, "<" .. r .. ">"), "rcptto " .. r)
	end
	local head, body = text:match("^(.-)\n\n(.*)$")
	local name, value
	for line in (head .. "\n"):gmatch("(.-)\n") do
		if line:match("^[ \t]") then
			value = value .. "\r\n" .. line
		else
			if name ~= nil then must(mt.header(conn, name, value), "header " .. name) end
			name, value = line:match("^([^:]+):[ \t]*(.*)$")
		end
	end
	if name ~= nil then must(mt.header(conn, name, value), "header " .. name) end
	must(mt.eoh(conn), "eoh")
	must(mt.bodystring(conn, (body:gsub("\n", "\r\n"))), "body")
	must(mt.eom(conn), "eom")
	local r = mt.getreply(conn)
	if want == "tempfail" then
		check(r == SMFIR_TEMPFAIL or r == SMFIR_REPLYCODE,
		    "released copy the filter cannot change is tempfailed")
	else
		check(r == SMFIR_ACCEPT or r == SMFIR_CONTINUE,
		    "released copy accepted")
	end
	mt.disconnect(conn)
end)
