-- 10-negotiate.lua - what relaymilter asks of the MTA at option negotiation.
local T = dofile(libdir .. "/common.lua")
T.tag = "neg"

local conn = T.connect()
-- mt.test_option() negotiates implicitly with everything offered
for _, f in ipairs({ { "SMFIP_NR_CONN", SMFIP_NR_CONN }, { "SMFIP_NR_HELO", SMFIP_NR_HELO },
		     { "SMFIP_NOHDRS", SMFIP_NOHDRS },
		     { "SMFIP_NOBODY", SMFIP_NOBODY }, { "SMFIP_NOEOH", SMFIP_NOEOH },
		     { "SMFIP_NODATA", SMFIP_NODATA }, { "SMFIP_NOUNKNOWN", SMFIP_NOUNKNOWN } }) do
	T.result(mt.test_option(conn, f[2]), "negotiated " .. f[1])
end
-- MAIL (require_auth) and RCPT must be answered, and nothing at
-- connect/helo/mail skipped
for _, f in ipairs({ { "SMFIP_NR_MAIL", SMFIP_NR_MAIL },
		     { "SMFIP_NR_RCPT", SMFIP_NR_RCPT }, { "SMFIP_NORCPT", SMFIP_NORCPT },
		     { "SMFIP_NOCONNECT", SMFIP_NOCONNECT }, { "SMFIP_NOHELO", SMFIP_NOHELO },
		     { "SMFIP_NOMAIL", SMFIP_NOMAIL } }) do
	T.result(not mt.test_option(conn, f[2]), "not negotiated " .. f[1])
end
-- header steps are negotiated away: miltertest refuses to send them
T.result(pcall(mt.header, conn, "Subject", "x") == false, "mt.header refused (SMFIP_NOHDRS)")
mt.disconnect(conn)

-- The same session with connect/helo/mail replies: an MTA that does not
-- offer the SMFIP_NR_* bits.  libmilter answers those steps itself, so the
-- milter must still work and reject the relay at RCPT.
conn = T.connect()
local oldproto = 0x1FFFFF - (SMFIP_NR_CONN + SMFIP_NR_HELO + SMFIP_NR_MAIL + SMFIP_NR_RCPT +
    SMFIP_NR_DATA + SMFIP_NR_UNKN + SMFIP_NR_EOH + SMFIP_NR_BODY + SMFIP_NR_HDR)
-- NB: miltertest takes (conn, version, protocol steps, actions); its man
-- page has the last two the other way round
local err = mt.negotiate(conn, nil, oldproto, nil)
if T.result(err == nil and not mt.test_option(conn, SMFIP_NR_CONN),
    "MTA without no-reply steps: negotiation", tostring(err)) then
	mt.macro(conn, SMFIC_CONNECT, "{client_addr}", "203.0.113.9")
	local e = mt.conninfo(conn, "old.test", "203.0.113.9")
	T.result(e == nil and mt.getreply(conn) == SMFIR_CONTINUE,
	    "MTA without no-reply steps: connect answered continue",
	    tostring(e) .. " " .. T.rname(mt.getreply(conn)))
	e = mt.helo(conn, "old.test")
	T.result(e == nil and mt.getreply(conn) == SMFIR_CONTINUE,
	    "MTA without no-reply steps: helo answered continue",
	    tostring(e) .. " " .. T.rname(mt.getreply(conn)))
	T.mail(conn)
	T.result(mt.getreply(conn) == SMFIR_CONTINUE,
	    "MTA without no-reply steps: mail answered continue", T.rname(mt.getreply(conn)))
	T.rcpt(conn, "<user@remote.test>", "reject", "MTA without no-reply steps: relay rejected")
	T.rcpt(conn, "<user@example.com>", "continue", "MTA without no-reply steps: local continue")
end
mt.disconnect(conn)
T.done()
