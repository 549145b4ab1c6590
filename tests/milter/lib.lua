-- lib.lua: helpers shared by the miltertest scripts.  Each script gets
-- `sock` (the milter socket spec) and `dir` (this folder) with -D, runs
-- its checks through check(), and ends with done(), whose exit status
-- tells run.sh whether every check passed.

failures = 0

function check(cond, what)
	if cond then
		print("  ok   " .. what)
	else
		print("  FAIL " .. what)
		failures = failures + 1
	end
end

function must(v, what)
	-- miltertest calls return nil on success, an error text otherwise
	if v ~= nil then error(what .. ": " .. tostring(v)) end
end

-- The protocol steps an MTA without SMFIP_HDR_LEADSPC offers: all of
-- libmilter's (SMFI_CURR_PROT, 0x1FFFFF) but that one (0x100000).
NO_LEADSPC = 0x0FFFFF

-- Opens a connection as an internet client and says HELO; steps: what
-- the MTA offers (nil: everything, SMFIP_HDR_LEADSPC included, as
-- Postfix and Sendmail do).
function open(ip, steps)
	local conn = mt.connect(sock, 40, 0.25)
	if conn == nil then error("cannot connect to " .. sock) end
	-- (miltertest takes version, steps, actions, in that order)
	if steps ~= nil then must(mt.negotiate(conn, nil, steps, nil), "negotiate") end
	must(mt.conninfo(conn, "mx.example.net", ip or "192.0.2.7"), "conninfo")
	must(mt.helo(conn, "mx.example.net"), "helo")
	return conn
end

-- Did the filter ask for header values with their leading blanks?
function leadspc(conn)
	return mt.test_option(conn, SMFIP_HDR_LEADSPC)
end

-- A header value the filter adds, as it must travel: with
-- SMFIP_HDR_LEADSPC the MTA writes "Name:" and the value as given, so the
-- value brings its space.  (mt.header() does the same for the headers
-- we send: it puts one space in front of the value under LEADSPC.)
function hv(conn, v)
	if leadspc(conn) then return " " .. v end
	return v
end

-- Sends envelope and headers (a list of {name, value}).
function envelope(conn, from, rcpts, headers, qid)
	mt.macro(conn, SMFIC_MAIL, "i", qid or "TESTQ")
	must(mt.mailfrom(conn, from), "mailfrom")
	for _, r in ipairs(rcpts) do must(mt.rcptto(conn, r), "rcptto") end
	for _, h in ipairs(headers) do must(mt.header(conn, h[1], h[2]), "header " .. h[1]) end
	must(mt.eoh(conn), "eoh")
end

good_headers = {
	{"From", "Alice <alice@example.org>"},
	{"To", "bob@example.com"},
	{"Subject", "minutes"},
	{"Date", "Tue, 24 Nov 2026 10:15:00 +0100"},
	{"Message-ID", "<m1@example.org>"},
}
bad_headers = {
	{"From", "nobody"},
	{"To", "bob@example.com"},
	{"Subject", "hello"},
}

function done()
	print(string.format("%d failed", failures))
	if failures > 0 then os.exit(1) end
	os.exit(0)
end

-- Runs f under pcall: a Lua error is a failure, not a silent pass.
function run(f)
	local ok, err = pcall(f)
	if not ok then
		print("  FAIL error: " .. tostring(err))
		failures = failures + 1
	end
	done()
end
