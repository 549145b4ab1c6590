-- live.lua: one message through the running daemon; -D want=NAME says
-- which rule must be in X-Spam-Status (want=- : none of ours).
dofile(dir .. "/lib.lua")
run(function()
	local conn = open()
	local h = {
		{"From", "Alice <alice@example.org>"},
		{"To", "bob@example.com"},
		{"Subject", "Cheap viagra and a golden ticket"},
		{"Date", "Tue, 24 Nov 2026 10:15:00 +0100"},
		{"Message-ID", "<live1@example.org>"},
	}
	envelope(conn, "<alice@example.org>", {"<bob@example.com>"}, h, "QL")
	must(mt.bodystring(conn, "hello\r\n"), "body")
	must(mt.eom(conn), "eom")
	check(mt.getreply(conn) == SMFIR_ACCEPT, "accepted")
	check(mt.eom_check(conn, MT_HDRADD, "X-Spam-Status"), "X-Spam-Status added")
	mt.disconnect(conn)
end)
