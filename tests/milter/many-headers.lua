-- 20,000 then 80,000 short header fields that look like ours: each is
-- noted and removed at constant cost, so four times the fields take
-- about four times as long, where walking every earlier field for each
-- one took sixteen times as long.  run.sh compares the two times from
-- the verdict log lines (a ratio, not a time limit: it holds on any
-- machine).
dofile(dir .. "/lib.lua")
local function many(n, qid)
	local conn = open()
	local h = {}
	for _, x in ipairs(good_headers) do table.insert(h, x) end
	for i = 1, n do table.insert(h, {"X-Spam-J", "x"}) end
	envelope(conn, "<alice@example.org>", {"<bob@example.com>"}, h, qid)
	must(mt.bodystring(conn, "x\r\n"), "body")
	must(mt.eom(conn), "eom")
	check(mt.getreply(conn) == SMFIR_ACCEPT, n .. " header fields: accepted")
	check(mt.eom_check(conn, MT_HDRCHANGE, "X-Spam-J"), n .. " header fields: removed")
	mt.disconnect(conn)
end
run(function()
	many(20000, "QMID")
	many(80000, "QBIG")
end)
