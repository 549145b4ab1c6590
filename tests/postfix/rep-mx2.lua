-- rep-mx2.lua: the second MX of tests/postfix/ratelimit.sh.  Sends n
-- messages to the vigil at sock (miltertest -D sock=unix:PATH -D ip=ADDR
-- -D from=ADDR -D rcpt=ADDR -D user=NAME|"" -D n=N), each on its own
-- connection from client ip, as Postfix would (user: the SASL login in
-- {auth_authen}).  Prints one line a message: "STAGE RESULT", STAGE mail
-- or eom where the filter answered, RESULT accept, reply (a reply code
-- set: the caller reads which in vigil's log), tempfail, reject or other.

local function result(conn)
	local r = mt.getreply(conn)
	if r == SMFIR_ACCEPT or r == SMFIR_CONTINUE then return "accept" end
	if r == SMFIR_TEMPFAIL then return "tempfail" end
	if r == SMFIR_REJECT then return "reject" end
	if r == SMFIR_REPLYCODE then return "reply" end
	return "other"
end

local function must(v, what)
	if v ~= nil then error(what .. ": " .. tostring(v)) end
end

for i = 1, tonumber(n) do
	local conn = mt.connect(sock, 40, 0.25)
	if conn == nil then error("cannot connect to " .. sock) end
	must(mt.conninfo(conn, "mx.example.net", ip), "conninfo")
	must(mt.helo(conn, "mx.example.net"), "helo")
	local qid = string.format("MXTWO%d", i)
	if user ~= "" then
		mt.macro(conn, SMFIC_MAIL, "i", qid, "{auth_authen}", user)
	else
		mt.macro(conn, SMFIC_MAIL, "i", qid)
	end
	must(mt.mailfrom(conn, "<" .. from .. ">"), "mailfrom")
	local r = result(conn)
	if r ~= "accept" then
		print("mail " .. r)
	else
		must(mt.rcptto(conn, "<" .. rcpt .. ">"), "rcptto")
		for _, h in ipairs({ {"From", from}, {"To", rcpt},
		    {"Subject", "report " .. i},
		    {"Date", "Mon, 07 Dec 2026 01:00:00 +0000"},
		    {"Message-ID", "<" .. qid .. "@example.org>"} }) do
			must(mt.header(conn, h[1], h[2]), "header")
		end
		must(mt.eoh(conn), "eoh")
		must(mt.bodystring(conn, "Hello.\r\n"), "body")
		must(mt.eom(conn), "eom")
		print("eom " .. result(conn))
	end
	mt.disconnect(conn)
end
