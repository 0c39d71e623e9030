-- 50-policy.lua - the checks beyond relaying, through the milter protocol:
-- require_auth answered at MAIL, anti-spoofing at RCPT, a repeated HELO.
local T = dofile(libdir .. "/common.lua")
T.tag = "pol"

local function open(ip, listener, helo)
	return T.open({ ip = ip, helo = helo,
	    macros = { "j", "mx.example.com", "_", "client.test [" .. ip .. "]",
	               "{daemon_name}", listener, "{client_addr}", ip } })
end

-- the submission listener refuses MAIL without AUTH (530), even from a
-- trusted network, and lets an authenticated client relay
local conn = open("203.0.113.9", "submission")
T.mail(conn, { want = "reject", code = "530", name = "submission, no AUTH: MAIL refused" })
mt.disconnect(conn)
conn = open("192.0.2.5", "Submission")
T.mail(conn, { want = "reject", code = "530", name = "submission (any case), trusted, no AUTH: MAIL refused" })
mt.disconnect(conn)
conn = open("203.0.113.9", "submission")
T.mail(conn, { auth = "alice", want = "continue", name = "submission with AUTH: MAIL continues" })
T.rcpt(conn, "<u@remote.test>", "continue", "submission with AUTH: relay continues")
mt.disconnect(conn)
-- other listeners do not require AUTH
conn = open("203.0.113.9", "mx-in")
T.mail(conn, { want = "continue", name = "MX listener, no AUTH: MAIL continues" })
T.rcpt(conn, "<u@example.com>", "continue", "MX listener: inbound continues")
mt.disconnect(conn)

-- an outsider with one of our senders, and with our name as HELO
conn = open("203.0.113.9", "mx-in")
T.mail(conn, { from = "someone@example.com" })
T.rcpt(conn, "<u@example.com>", "reject", "outsider with a local sender: 553", { code = "553" })
mt.disconnect(conn)
conn = open("203.0.113.9", "mx-in", "mx.example.com")
T.mail(conn)
T.rcpt(conn, "<u@example.com>", "reject", "outsider HELO as our name: 550")
T.rcpt(conn, "<postmaster@example.com>", "continue", "outsider HELO as our name: postmaster continues")
-- a repeated HELO (as after STARTTLS) replaces the first one
if T.result(mt.helo(conn, "client.test") == nil, "second HELO sent") then
	T.mail(conn)
	T.rcpt(conn, "<u@example.com>", "continue", "after a second, honest HELO: continues")
end
mt.disconnect(conn)
conn = open("203.0.113.9", "mx-in", "client.test")
T.mail(conn)
T.rcpt(conn, "<u@example.com>", "continue", "honest HELO: continues")
if T.result(mt.helo(conn, "[192.0.2.1]") == nil, "second HELO sent") then
	T.mail(conn)
	T.rcpt(conn, "<u@example.com>", "reject", "second HELO as a trusted address literal: 550")
end
mt.disconnect(conn)
-- a trusted client may use both
conn = open("192.0.2.5", "mx-in", "mx.example.com")
T.mail(conn, { from = "someone@example.com" })
T.rcpt(conn, "<u@remote.test>", "continue", "trusted client, our HELO and sender: relays")
mt.disconnect(conn)
T.done()
