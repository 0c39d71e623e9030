-- header-from.lua - header_from in the adapter (a daemon whose config turns
-- it on): the headers are asked for (NOHDRS/NOEOH not negotiated, no reply
-- per header), and at the end of headers an authenticated client's foreign
-- From: is refused while its own, in any notation, goes on.
local T = dofile(libdir .. "/common.lua")
T.tag = "hfrom"

local conn = T.connect()
T.result(not mt.test_option(conn, SMFIP_NOHDRS) and not mt.test_option(conn, SMFIP_NOEOH),
    "header_from on: headers and end of headers negotiated")
T.result(mt.test_option(conn, SMFIP_NR_HDR), "header_from on: no reply per header")
T.result(mt.test_option(conn, SMFIP_NOBODY), "the body still negotiated away")
mt.disconnect(conn)

-- message(auth, {{name, value}, ...}, want, name): one message to a remote
-- recipient; want: "continue" or "reject" at the end of headers
local function message(auth, hdrs, want, name)
	local c = T.open({ ip = "203.0.113.9" })
	T.mail(c, { auth = auth, from = "alice@example.com" })
	T.rcpt(c, "<user@remote.test>", auth and "continue" or "reject", name .. ": rcpt", { nolog = true })
	for _, h in ipairs(hdrs) do
		local e = mt.header(c, h[1], h[2])
		if e ~= nil then T.fatal("mt.header: " .. tostring(e)) end
	end
	local e = mt.eoh(c)
	local r = mt.getreply(c)
	local w = want == "continue" and SMFIR_CONTINUE or SMFIR_REPLYCODE
	T.result(e == nil and r == w, name, tostring(e) .. " reply " .. T.rname(r))
	mt.disconnect(c)
end

message("alice", { { "Subject", "hi" }, { "From", "alice@example.com" } }, "continue", "own From: continues")
message("alice", { { "From", "Alice <ALICE@Example.COM>" } }, "continue", "own From:, any case, display name")
message("alice", { { "From", "=?utf-8?q?Alice_=C3=A9?=\r\n <alice@example.com>" } }, "continue",
    "own From:, encoded word, folded")
message("alice", { { "From", "Bob <bob@example.com>" } }, "reject", "foreign From: refused")
message("alice", { { "From", "\"alice@example.com\" <bob@example.com>" } }, "reject",
    "foreign From: behind the login's address as display name refused")
message("alice", { { "From", "alice@example.com" }, { "Sender", "bob@example.com" } }, "reject",
    "foreign Sender: refused")
message("alice", { { "From", "alice@example.com" }, { "From", "alice@example.com" } }, "reject",
    "two From: fields refused")
message("alice", { { "Subject", "no author" } }, "reject", "no From: refused")
message("alice", { { "From", "alice@example.com <bob@example.com>" } }, "reject",
    "From: that does not parse refused")
T.done()
