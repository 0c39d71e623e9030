-- answer-data.lua - the DATA step with answer_data (-D data=yes|no): taken
-- and answered continue ("yes"), or negotiated away ("no"); either way the
-- relay is refused at RCPT and a local recipient's message goes through.
local T = dofile(libdir .. "/common.lua")
T.tag = "data-" .. tostring(data)

local conn = T.connect()
if data == "yes" then
	T.result(not mt.test_option(conn, SMFIP_NODATA), "answer_data: DATA not negotiated away")
else
	T.result(mt.test_option(conn, SMFIP_NODATA), "no answer_data: DATA negotiated away")
end
-- the rest of the negotiation is unchanged
T.result(mt.test_option(conn, SMFIP_NOHDRS) and mt.test_option(conn, SMFIP_NOBODY)
    and mt.test_option(conn, SMFIP_NOEOH), "headers and body still negotiated away")
mt.macro(conn, SMFIC_CONNECT, "{client_addr}", "203.0.113.9")
T.result(mt.conninfo(conn, "c.test", "203.0.113.9") == nil, "connect")
T.result(mt.helo(conn, "c.test") == nil, "helo")
T.mail(conn)
T.rcpt(conn, "<user@remote.test>", "reject", "relay refused at RCPT")
T.rcpt(conn, "<user@example.com>", "continue", "local recipient continues")
if data == "yes" then
	local e = mt.data(conn)
	T.result(e == nil and mt.getreply(conn) == SMFIR_CONTINUE, "DATA answered continue",
	    tostring(e) .. " " .. T.rname(mt.getreply(conn)))
else
	T.result(pcall(mt.data, conn) == false, "mt.data refused (SMFIP_NODATA)")
end
local e = mt.eom(conn)
T.result(e == nil and mt.getreply(conn) == SMFIR_CONTINUE, "end of message continues",
    tostring(e) .. " " .. T.rname(mt.getreply(conn)))
mt.disconnect(conn)
T.done()
