-- Header values exactly as written: vigil asks for SMFIP_HDR_LEADSPC when
-- the MTA offers it, so every byte after the colon reaches the DKIM check
-- and a signature made with simple header canonicalization verifies.
-- signed-blanks.eml has "To:  bob" (two spaces) and "Message-ID: <tab><"
-- (space, tab).  An MTA that does not offer LEADSPC drops the one space
-- after the colon; vigil puts one back (right for "To:", wrong for
-- "Message-ID:", which shows what LEADSPC is for), and adds its own
-- headers without one.
dofile(dir .. "/lib.lua")

-- The top headers of a message file as {name, every byte after the
-- colon} (continuation lines joined with LF, as the MTA sends them) and
-- the body with CRLF line ends.
local function read_message(path)
	local f = assert(io.open(path, "rb"))
	local data = f:read("*a")
	f:close()
	data = data:gsub("\r\n", "\n")
	local head, body = data:match("^(.-\n)\n(.*)$")
	local hdrs = {}
	for line in head:gmatch("(.-)\n") do
		if line:match("^[ \t]") then
			hdrs[#hdrs][2] = hdrs[#hdrs][2] .. "\n" .. line
		else
			local n, v = line:match("^([^:]+):(.*)$")
			table.insert(hdrs, {n, v})
		end
	end
	return hdrs, (body:gsub("\n", "\r\n"))
end

-- Sends FILE as the MTA would; returns vigil's X-Spam-Status value.
local function send(conn, file, qid)
	local hdrs, body = read_message(dir .. "/../data/auth/" .. file)
	mt.macro(conn, SMFIC_MAIL, "i", qid)
	must(mt.mailfrom(conn, "<alice@example.org>"), "mailfrom")
	must(mt.rcptto(conn, "<bob@example.net>"), "rcptto")
	for _, h in ipairs(hdrs) do
		-- Without LEADSPC the MTA drops the space after the colon; with
		-- it mt.header() puts one in front, so drop it here either way.
		local v = h[2]
		if v:sub(1, 1) == " " then
			v = v:sub(2)
		elseif leadspc(conn) then
			error("mt.header() cannot send " .. h[1] .. ":" .. v)
		end
		must(mt.header(conn, h[1], v), "header " .. h[1])
	end
	must(mt.eoh(conn), "eoh")
	must(mt.bodystring(conn, body), "body")
	must(mt.eom(conn), "eom")
	check(mt.getreply(conn) == SMFIR_ACCEPT, file .. " accepted")
	return mt.getheader(conn, "X-Spam-Status", 0) or ""
end

local function has(st, test)
	return st:find("[=,]" .. test .. "$") ~= nil or st:find("[=,]" .. test .. ",") ~= nil
end

run(function()
	-- An MTA that offers LEADSPC, like Postfix and Sendmail.
	local conn = open()
	check(leadspc(conn), "vigil negotiates SMFIP_HDR_LEADSPC when offered")
	local st = send(conn, "signed-blanks.eml", "L1")
	check(has(st, "DKIM_VALID_AU"),
	    "LEADSPC: simple/simple over 'To:  bob' and 'Message-ID: <tab><': dkim passes [" .. st .. "]")
	check(st:match("^ [^ ]") ~= nil,
	    "LEADSPC: added header values bring the space after the colon")
	st = send(conn, "signed-simple.eml", "L2")
	check(has(st, "DKIM_VALID_AU"), "LEADSPC: simple/simple, usual spacing: dkim passes")
	mt.disconnect(conn)

	-- An MTA that does not offer it.
	conn = open(nil, NO_LEADSPC)
	check(not leadspc(conn), "not offered: vigil does not ask for LEADSPC")
	st = send(conn, "signed-simple.eml", "L3")
	check(has(st, "DKIM_VALID_AU"),
	    "no LEADSPC: the space after the colon is put back, dkim passes [" .. st .. "]")
	check(st:match("^[^ ]") ~= nil, "no LEADSPC: added header values have no leading space")
	st = send(conn, "signed-blanks.eml", "L4")
	check(has(st, "DKIM_INVALID"),
	    "no LEADSPC: 'Message-ID: <tab><' arrives as '<tab><' and cannot verify")
	mt.disconnect(conn)
end)
