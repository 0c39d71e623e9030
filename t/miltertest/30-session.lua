-- 30-session.lua - several messages on one connection, aborts, state reset.
local T = dofile(libdir .. "/common.lua")
T.tag = "sess"

local conn = T.open({ ip = "203.0.113.9" })
-- message 1: authenticated
T.mail(conn, { auth = "alice" })
T.rcpt(conn, "<a1@remote.test>", "continue", "msg 1 (auth): remote continues")
T.rcpt(conn, "<a2@example.com>", "continue", "msg 1 (auth): local continues")
T.result(mt.abort(conn) == nil, "abort after msg 1")
-- message 2: no auth on the same connection: the auth must not leak
T.mail(conn)
T.rcpt(conn, "<b1@remote.test>", "reject", "msg 2 (no auth, after abort): remote rejected")
T.rcpt(conn, "<b2@example.com>", "continue", "msg 2: local continues after a rejected rcpt")
-- message 3 without an abort in between (MAIL starts a new message)
T.mail(conn, { auth = "carol" })
T.rcpt(conn, "<c1@remote.test>", "continue", "msg 3 (auth, no abort before): remote continues")
-- message 4: new MAIL without auth right after an authenticated one
T.mail(conn)
T.rcpt(conn, "<d1@remote.test>", "reject", "msg 4 (no auth, no abort before): remote rejected")
T.result(mt.abort(conn) == nil, "abort after msg 4")
T.result(mt.abort(conn) == nil, "second abort in a row")
-- message 5: ends with end-of-message (no content steps are negotiated)
T.mail(conn)
T.rcpt(conn, "<e1@example.com>", "continue", "msg 5: local continues")
local e = mt.eom(conn)
T.result(e == nil, "msg 5: eom sent", tostring(e))
-- message 6 after the eom
T.mail(conn, { auth = "dave" })
T.rcpt(conn, "<f1@remote.test>", "continue", "msg 6 (after eom, auth): remote continues")
T.mail(conn)
T.rcpt(conn, "<g1@remote.test>", "reject", "msg 7 (after eom, no auth): remote rejected")
-- many messages on the one connection
local bad = 0
for i = 1, 50 do
	T.mail(conn, { auth = (i % 2 == 0) and "erin" or nil })
	local rc = mt.rcptto(conn, string.format("<loop%d@remote.test>", i))
	local want = (i % 2 == 0) and SMFIR_CONTINUE or SMFIR_REPLYCODE
	if rc ~= nil or mt.getreply(conn) ~= want then bad = bad + 1 end
	if i % 3 == 0 then mt.abort(conn) end
end
T.result(bad == 0, "50 more messages on one connection, alternating auth", bad .. " wrong")
mt.disconnect(conn)

-- a new HELO in the same session (as after STARTTLS) and a new message
conn = T.open({ ip = "192.0.2.5" })
T.mail(conn)
T.rcpt(conn, "<h1@remote.test>", "continue", "trusted session: remote continues")
T.result(mt.helo(conn, "again.client.test") == nil, "second HELO in a session")
T.mail(conn)
T.rcpt(conn, "<h2@remote.test>", "continue", "after second HELO: still trusted")
mt.disconnect(conn)

-- abrupt disconnect in the middle of a message, then a fresh session
conn = T.open({ ip = "203.0.113.9" })
T.mail(conn)
mt.disconnect(conn, false)
T.session({ ip = "203.0.113.9" }, {
	{ "<i1@remote.test>", "reject", "after an abrupt disconnect: next session works" },
})
-- concurrent connections: each keeps its own client
local c1 = T.open({ ip = "192.0.2.5" })
local c2 = T.open({ ip = "203.0.113.9" })
T.mail(c1); T.mail(c2)
T.rcpt(c1, "<j1@remote.test>", "continue", "two open sessions: the trusted one continues", { nolog = true })
T.rcpt(c2, "<j2@remote.test>", "reject", "two open sessions: the untrusted one is rejected", { nolog = true })
mt.disconnect(c1); mt.disconnect(c2)
T.done()
